// GET/HEAD /ipfs/<cid>: the trustless gateway's raw block and CAR responses
// (https://specs.ipfs.tech/http-gateways/trustless-gateway/), plus the file's bytes for plain GETs.

import type { IncomingMessage } from 'node:http'
import { pipeline } from 'node:stream/promises'
import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, InvalidArgumentError } from '../errors'
import { carStream, type DagScope } from '../unixfs/car-stream'
import { BlockBufferPool, fileInfo, readFile } from '../unixfs/file-reader'
import { type Handler, sendStream } from './context'
import { HttpRouteError } from './kubo-error'
import { parseCid } from './params'

type Format = 'raw' | 'car' | 'file'

/** Recycled read buffers for file bytes, shared by all requests. */
const fileBuffers = new BlockBufferPool()

const CAR_TYPE = 'application/vnd.ipld.car; version=1; order=dfs; dups=n'
// Path gateway spec, Cache-Control: immutable content under /ipfs/ may be cached for a year.
const IMMUTABLE = 'public, max-age=29030400, immutable'

export const gateway: Handler = async (req, res, url, ctx) => {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    throw new HttpRouteError(405, `${req.method} is not allowed: the gateway is read-only`, 'GET, HEAD')
  }
  if (!url.pathname.startsWith('/ipfs/')) throw new HttpRouteError(404, `no content at ${url.pathname}`)
  const cid = parseCid(url.pathname)
  const format = negotiate(url.searchParams.get('format'), req.headers.accept)
  const scope = dagScope(url.searchParams.get('dag-scope'))
  if (!(await ctx.repo.blocks.has(cid))) throw new BlockNotFoundError(cid.toString())

  const etag = etagOf(cid, format, scope)
  const headers: Record<string, string> = {
    Etag: etag,
    'X-Ipfs-Path': `/ipfs/${cid}`,
    'Cache-Control': IMMUTABLE,
    'Access-Control-Allow-Origin': '*',
    'X-Content-Type-Options': 'nosniff',
    Vary: 'Accept',
  }
  if (matches(req, etag)) {
    res.writeHead(304, headers).end()
    return
  }

  if (format === 'raw') {
    const bytes = await ctx.repo.blocks.bytes(cid)
    res.writeHead(200, {
      ...headers,
      'Content-Type': 'application/vnd.ipld.raw',
      'Content-Length': String(bytes.byteLength),
      'Content-Disposition': `attachment; filename="${cid}.bin"`,
    })
    res.end(req.method === 'HEAD' ? undefined : bytes)
    return
  }

  if (format === 'car') {
    // The length of a CAR is only known once it is written, so it goes out chunked.
    res.writeHead(200, {
      ...headers,
      'Content-Type': CAR_TYPE,
      'Content-Disposition': `attachment; filename="${cid}.car"`,
      'Accept-Ranges': 'none',
    })
    if (req.method === 'HEAD') res.end()
    else await pipeline(carStream(ctx.repo.blocks, cid, scope), res)
    return
  }

  const { size } = await fileInfo(ctx.repo.blocks, cid)
  res.writeHead(200, {
    ...headers,
    // Stillflow stores ciphertext, so the gateway does not sniff content types.
    'Content-Type': 'application/octet-stream',
    'Content-Length': String(size),
  })
  if (req.method === 'HEAD' || size === 0) res.end()
  else await sendStream(res, readFile(ctx.repo.blocks, cid, { offset: 0, length: size }, fileBuffers), fileBuffers)
}

/** `?format=` wins over `Accept` (path gateway spec); anything else gets the file's bytes. */
function negotiate(format: string | null, accept: string | undefined): Format {
  if (format !== null && format !== '') {
    if (format === 'raw' || format === 'car') return format
    throw new InvalidArgumentError(`unsupported format "${format}": this gateway serves raw and car`)
  }
  for (const range of (accept ?? '').split(',')) {
    const [type, ...params] = range.split(';').map((s) => s.trim().toLowerCase())
    if (type === 'application/vnd.ipld.raw') return 'raw'
    if (type === 'application/vnd.ipld.car') {
      const version = params.find((p) => p.startsWith('version='))?.slice('version='.length)
      if (version !== undefined && version !== '1') {
        throw new InvalidArgumentError(`unsupported CAR version ${version}: this gateway serves CARv1`)
      }
      return 'car'
    }
  }
  return 'file'
}

function dagScope(value: string | null): DagScope {
  if (value === null || value === 'all' || value === 'entity' || value === 'block') return value ?? 'all'
  throw new InvalidArgumentError(`invalid dag-scope "${value}": must be one of all, entity, block`)
}

// Distinct per representation so a cache never serves a CAR for a raw request. CAR tags are weak:
// the bytes depend on traversal choices, not only on the CID.
function etagOf(cid: CID, format: Format, scope: DagScope): string {
  if (format === 'raw') return `"${cid}.raw"`
  if (format === 'car') return `W/"${cid}.car.${scope}.dfs.n"`
  return `"${cid}"`
}

function matches(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match']
  if (!header) return false
  const strip = (tag: string) => tag.trim().replace(/^W\//, '')
  return header === '*' || header.split(',').some((tag) => strip(tag) === strip(etag))
}
