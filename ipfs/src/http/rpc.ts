// The Kubo RPC subset under /api/v0 (https://docs.ipfs.tech/reference/kubo/rpc/): every command
// is POST-only, arguments travel in the query string, answers are Kubo's JSON shapes.

import { arch, platform } from 'node:os'
import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, InvalidArgumentError, PinStateError } from '../errors'
import type { StoredPinType } from '../repo/pins'
import { walkDag } from '../unixfs/dag-walk'
import { BlockBufferPool, fileInfo, readFile } from '../unixfs/file-reader'
import { type Handler, type NodeContext, sendJson, sendStream } from './context'
import { HttpRouteError } from './kubo-error'
import { Params, parseCid } from './params'
import { add } from './rpc-add'

/** Reported by `version`; Kubo clients only display it. */
export const NODE_VERSION = '0.1.0-stillflow'
/** Reported by `version` and `repo/stat` as the repo format. */
const REPO_VERSION = 'stillflow-1'

/** Recycled read buffers for `cat`, shared by all requests. */
const catBuffers = new BlockBufferPool()

const cat: Handler = async (_req, res, url, ctx) => {
  const params = new Params(url.searchParams)
  const cid = parseCid(params.requiredArg('ipfs-path'))
  const offset = params.int('offset', 0) as number
  const length = params.int('length')
  const { size } = await fileInfo(ctx.repo.blocks, cid)
  if (offset > size) throw new InvalidArgumentError(`offset was past the end of file (${offset} > ${size})`)
  const count = Math.min(length ?? size - offset, size - offset)
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Content-Length': String(count),
    'X-Content-Length': String(size),
    'X-Stream-Output': '1',
  })
  if (count === 0) {
    res.end()
    return
  }
  await sendStream(res, readFile(ctx.repo.blocks, cid, { offset, length: count }, catBuffers), catBuffers)
}

const blockStat: Handler = async (_req, res, url, ctx) => {
  const cid = parseCid(new Params(url.searchParams).requiredArg('cid'))
  const bytes = await ctx.repo.blocks.bytes(cid)
  sendJson(res, { Key: cid.toString(), Size: bytes.byteLength })
}

const blockGet: Handler = async (_req, res, url, ctx) => {
  const cid = parseCid(new Params(url.searchParams).requiredArg('cid'))
  const bytes = await ctx.repo.blocks.bytes(cid)
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(bytes.byteLength) }).end(bytes)
}

const pinAdd: Handler = async (_req, res, url, ctx) => {
  const params = new Params(url.searchParams)
  const cids = requiredCids(params)
  const type: StoredPinType = params.bool('recursive', true) ? 'recursive' : 'direct'
  // Under the GC lock: a collection between the check and the pin could remove what was just checked.
  await ctx.repo.gcLock.withShared(async () => {
    for (const cid of cids) {
      // Kubo would fetch what is missing; offline, a pin must prove the whole DAG is here.
      if (type === 'recursive') await drain(walkDag(ctx.repo.blocks, cid, { readLeaves: false }))
      else await requireBlock(ctx, cid)
    }
    for (const cid of cids) await ctx.repo.pins.add(cid.toString(), type)
  })
  sendJson(res, { Pins: cids.map(String) })
}

const pinRm: Handler = async (_req, res, url, ctx) => {
  const params = new Params(url.searchParams)
  const cids = requiredCids(params)
  const recursive = params.bool('recursive', true)
  for (const cid of cids) await ctx.repo.pins.remove(cid.toString(), recursive)
  sendJson(res, { Pins: cids.map(String) })
}

const PIN_TYPES = ['all', 'direct', 'recursive', 'indirect'] as const
type PinFilter = (typeof PIN_TYPES)[number]

const pinLs: Handler = async (_req, res, url, ctx) => {
  const params = new Params(url.searchParams)
  const filter = (params.string('type') ?? 'all') as PinFilter
  if (!PIN_TYPES.includes(filter)) {
    throw new InvalidArgumentError(`invalid type '${filter}', must be one of {direct, indirect, recursive, all}`)
  }
  const stream = params.bool('stream', false)
  for (const flag of ['quiet', 'names']) params.bool(flag, false)
  const found = params.args().length > 0 ? await pinsOf(ctx, params.args(), filter) : await allPins(ctx, filter)
  if (stream) {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Chunked-Output': '1' })
    res.end(found.map(([cid, type]) => JSON.stringify({ Cid: cid, Type: type, Name: '' }) + '\n').join(''))
    return
  }
  sendJson(res, { Keys: Object.fromEntries(found.map(([cid, type]) => [cid, { Type: type, Name: '' }])) })
}

async function pinsOf(ctx: NodeContext, args: string[], filter: PinFilter): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = []
  for (const arg of args) {
    const key = parseCid(arg).toString()
    const stored = ctx.repo.pins.get(key)
    if (stored && (filter === 'all' || filter === stored)) {
      out.push([key, stored])
      continue
    }
    const via = filter === 'all' || filter === 'indirect' ? await indirectRoot(ctx, key) : undefined
    if (via === undefined) throw new PinStateError(`path '${arg}' is not pinned`)
    out.push([key, `indirect through ${via}`])
  }
  return out
}

async function allPins(ctx: NodeContext, filter: PinFilter): Promise<Array<[string, string]>> {
  const stored = ctx.repo.pins.entries()
  const out: Array<[string, string]> = stored.filter(([, type]) => filter === 'all' || filter === type)
  if (filter === 'all' || filter === 'indirect') {
    const listed = new Set(stored.map(([cid]) => cid))
    for (const [root, type] of stored) {
      if (type !== 'recursive') continue
      for await (const { cid } of walkDag(ctx.repo.blocks, parseCid(root), { readLeaves: false })) {
        const key = cid.toString()
        if (!listed.has(key)) {
          listed.add(key)
          out.push([key, 'indirect'])
        }
      }
    }
  }
  return out
}

/** The recursive pin whose DAG contains `key` (other than as its root), if any. */
async function indirectRoot(ctx: NodeContext, key: string): Promise<string | undefined> {
  for (const [root, type] of ctx.repo.pins.entries()) {
    if (type !== 'recursive' || root === key) continue
    for await (const { cid } of walkDag(ctx.repo.blocks, parseCid(root), { readLeaves: false })) {
      if (cid.toString() === key) return root
    }
  }
  return undefined
}

const version: Handler = async (_req, res) => {
  sendJson(res, {
    Version: NODE_VERSION,
    Commit: '',
    Repo: REPO_VERSION,
    System: `${arch()}/${platform()}`,
    Golang: '',
  })
}

const repoStat: Handler = async (_req, res, url, ctx) => {
  const sizeOnly = new Params(url.searchParams).bool('size-only', false)
  const stat = await ctx.repo.stat()
  sendJson(
    res,
    sizeOnly
      ? { RepoSize: stat.repoSize, StorageMax: stat.storageMax }
      : {
          RepoSize: stat.repoSize,
          StorageMax: stat.storageMax,
          NumObjects: stat.numObjects,
          RepoPath: stat.repoPath,
          Version: `fs-repo@${REPO_VERSION}`,
        },
  )
}

/**
 * Kubo's `repo/gc`: removes the blocks no pin reaches, except those of packs younger than the node's
 * grace period (repo/gc.ts), and streams one `{"Key":{"/":cid}}` line per removed block.
 */
const repoGc: Handler = async (_req, res, url, ctx) => {
  const params = new Params(url.searchParams)
  const flags = ['quiet', 'stream-errors', 'silent']
  // The grace period is the node's setting (--gc-grace), not the caller's: no option shortens it.
  // Kubo's global options (encoding, stream-channels, timeout) are accepted as clients send them.
  params.only([...flags, 'encoding', 'stream-channels', 'timeout'])
  for (const flag of flags) params.bool(flag, false)
  const removed = await ctx.repo.gc({ graceMs: ctx.gcGraceMs })
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'X-Chunked-Output': '1' })
  res.end(removed.map((cid) => JSON.stringify({ Key: { '/': cid.toString() } }) + '\n').join(''))
}

const COMMANDS: Record<string, Handler> = {
  add,
  cat,
  'block/get': blockGet,
  'block/stat': blockStat,
  'pin/add': pinAdd,
  'pin/ls': pinLs,
  'pin/rm': pinRm,
  'repo/gc': repoGc,
  'repo/stat': repoStat,
  version,
}

/** Serves `/api/v0/<command>`. */
export const rpc: Handler = async (req, res, url, ctx) => {
  const command = url.pathname.startsWith('/api/v0/') ? url.pathname.slice('/api/v0/'.length) : undefined
  const handler = command === undefined ? undefined : COMMANDS[command]
  if (!handler) throw new HttpRouteError(404, `unknown command "${url.pathname}"`)
  // Kubo refuses GET on the RPC API so a web page cannot trigger commands with a link or <img>.
  if (req.method !== 'POST')
    throw new HttpRouteError(405, `${req.method} is not allowed: the RPC API accepts POST only`, 'POST')
  await handler(req, res, url, ctx)
}

function requiredCids(params: Params): CID[] {
  params.requiredArg('ipfs-path')
  return params.args().map(parseCid)
}

async function requireBlock(ctx: NodeContext, cid: CID): Promise<void> {
  if (!(await ctx.repo.blocks.has(cid))) throw new BlockNotFoundError(cid.toString())
}

async function drain(source: AsyncIterable<unknown>): Promise<void> {
  for await (const item of source) void item
}
