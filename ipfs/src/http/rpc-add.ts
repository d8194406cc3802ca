// POST /api/v0/add: multipart files in, one `{Name, Hash, Size}` line per file out (Kubo's shape).
// The body is streamed part by part into the importer; nothing holds a whole file in memory.

import type { IncomingMessage } from 'node:http'
import { InvalidArgumentError, UploadTooLargeError } from '../errors'
import { discardBlocks } from '../repo/pack-file'
import { FileImporter } from '../unixfs/file-importer'
import { type LayoutSettings, KUBO_CHUNK_SIZE, MAX_CHUNK_SIZE } from '../unixfs/kubo-layout'
import type { Handler } from './context'
import { boundaryOf, readMultipart } from './multipart'
import { Params } from './params'

// Options of `ipfs add` that would change the resulting CIDs or where data lives. Accepting and
// ignoring them would hand back CIDs Kubo would not produce, so they are refused.
const UNSUPPORTED_FLAGS = [
  'trickle',
  'wrap-with-directory',
  'inline',
  'nocopy',
  'fscache',
  'preserve-mode',
  'preserve-mtime',
]
const UNSUPPORTED_VALUES = ['to-files', 'mode', 'mtime', 'mtime-nsecs']

export const add: Handler = async (req, res, url, ctx) => {
  const params = new Params(url.searchParams)
  const settings = layoutSettings(params)
  const pin = params.bool('pin', true)
  const onlyHash = params.bool('only-hash', false)
  const progress = params.bool('progress', false)
  // Accepted for compatibility; they only change what Kubo's own CLI prints.
  for (const flag of ['quiet', 'quieter', 'silent', 'stream-channels']) params.bool(flag, false)

  const declared = Number(req.headers['content-length'] ?? NaN)
  if (declared > ctx.maxUploadBytes) throw new UploadTooLargeError(ctx.maxUploadBytes)
  const boundary = boundaryOf(req.headers['content-type'])

  // One pack per request: its blocks become visible together once every write is done.
  const writer = onlyHash ? undefined : ctx.repo.blocks.writer()
  const added: Array<{ Name: string; Hash: string; Size: string; bytes: number }> = []
  try {
    for await (const part of readMultipart(limitBytes(req, ctx.maxUploadBytes), boundary)) {
      if (part.contentType === 'application/x-directory' || part.contentType === 'application/symlink') {
        throw new InvalidArgumentError(
          `cannot add "${part.filename}": only files are supported by this node, not directories or symlinks`,
        )
      }
      if (part.filename.includes('/')) {
        throw new InvalidArgumentError(
          `cannot add "${part.filename}": only files are supported by this node, not paths inside directories`,
        )
      }
      const importer = new FileImporter(writer ?? discardBlocks, settings)
      let bytes = 0
      for await (const chunk of part.body) {
        bytes += chunk.byteLength
        const wait = importer.write(chunk)
        if (wait) await wait
      }
      const result = await importer.end()
      const hash = result.cid.toString()
      // Kubo names a file without a filename after its CID, and sends Size as a decimal string.
      added.push({ Name: part.filename || hash, Hash: hash, Size: result.size.toString(), bytes })
    }
    await writer?.seal()
  } catch (err) {
    await writer?.discard()
    throw err
  }
  if (added.length === 0) throw new InvalidArgumentError(`file argument 'path' is required`)

  if (pin && !onlyHash) {
    for (const file of added) await ctx.repo.pins.add(file.Hash, 'recursive')
  }
  const lines = added.flatMap(({ bytes, ...file }) =>
    progress ? [JSON.stringify({ Name: file.Name, Bytes: bytes }), JSON.stringify(file)] : [JSON.stringify(file)],
  )
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Chunked-Output': '1' })
  res.end(lines.join('\n') + '\n')
}

function layoutSettings(params: Params): LayoutSettings {
  for (const flag of UNSUPPORTED_FLAGS) {
    if (params.bool(flag, false)) throw new InvalidArgumentError(`option "${flag}" is not supported by this node`)
  }
  for (const name of UNSUPPORTED_VALUES) {
    if (params.has(name)) throw new InvalidArgumentError(`option "${name}" is not supported by this node`)
  }
  const hash = params.string('hash')
  if (hash !== undefined && hash !== 'sha2-256') {
    throw new InvalidArgumentError(`option "hash": only sha2-256 is supported by this node, got "${hash}"`)
  }
  const cidVersion = params.int('cid-version', 0)
  if (cidVersion !== 0 && cidVersion !== 1) throw new InvalidArgumentError(`unknown CID version: ${cidVersion}`)
  return {
    cidVersion,
    // Kubo: --cid-version=1 implies --raw-leaves unless raw-leaves is given.
    rawLeaves: params.bool('raw-leaves', cidVersion === 1),
    chunkSize: chunkSize(params.string('chunker')),
  }
}

/** Kubo's `size-N` chunker string; content-defined chunkers (rabin, buzhash) are not offered. */
function chunkSize(spec: string | undefined): number {
  if (spec === undefined || spec === '' || spec === 'default') return KUBO_CHUNK_SIZE
  const match = /^size-(\d+)$/.exec(spec)
  if (!match) throw new InvalidArgumentError(`unrecognized chunker option: "${spec}" (only size-N is supported)`)
  const size = Number(match[1])
  if (size < 1) throw new InvalidArgumentError('chunker size must be greater than 0')
  if (size > MAX_CHUNK_SIZE) {
    throw new InvalidArgumentError(`chunker parameters may not exceed the maximum chunk size of ${MAX_CHUNK_SIZE}`)
  }
  return size
}

/** The request body, failing with `UploadTooLargeError` once more than `limit` bytes arrived. */
async function* limitBytes(req: IncomingMessage, limit: number): AsyncGenerator<Uint8Array> {
  let seen = 0
  // destroyOnReturn false: stopping early (oversize, malformed body) must leave the socket open
  // for the error response; the default iterator would destroy the request and its socket.
  for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    seen += chunk.byteLength
    if (seen > limit) throw new UploadTooLargeError(limit)
    yield chunk
  }
}
