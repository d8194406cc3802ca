// POST /api/rpc: a read-only JSON-RPC door to the marketplace's chain for the browser (the /verify page
// checks receipts against the chain itself, R23, R24). The worker's CHAIN_RPC_URL may carry a provider
// key and is not reachable from a browser, so the site asks here; only reads pass, only about the
// address book's contracts, and both request and answer are size-limited.
import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { ApiError, echo } from '../errors'
import { readJson } from '../middleware/body'
import { CHAIN_TIMEOUT_MS, rpcBatch } from '../services/chain'
import { addressBook, reaching, requireSetting, UnreachableError } from '../services/config'

/** Largest request body accepted, and largest upstream answer passed on. */
export const MAX_REQUEST_BYTES = 16 * 1024
export const MAX_RESPONSE_BYTES = 1024 * 1024
const MAX_BATCH = 20
const HASH = /^0x[0-9a-fA-F]{64}$/
const BLOCK = /^(latest|earliest|pending|safe|finalized|0x(0|[1-9a-fA-F][0-9a-fA-F]{0,15}))$/

/** Read methods a verifier needs; anything that signs, sends, subscribes or filters statefully is refused. */
export const READ_METHODS = new Set([
  'eth_chainId',
  'net_version',
  'eth_blockNumber',
  'eth_call',
  'eth_getLogs',
  'eth_getCode',
  'eth_getTransactionByHash',
  'eth_getTransactionReceipt',
  'eth_getBlockByNumber',
  'eth_getBlockByHash',
])

interface RpcCall {
  jsonrpc: '2.0'
  id: number | string | null
  method: string
  params: unknown[]
}

const bad = (code: string, message: string) => new ApiError(400, code, message)

/** One validated call; `contracts` are the address book's addresses (lower case). */
function checkCall(raw: unknown, contracts: Set<string>, where: string): RpcCall {
  const c = raw as Partial<RpcCall> | null
  if (!c || typeof c !== 'object' || Array.isArray(c)) throw bad('invalid_rpc_request', `${where} must be an object`)
  if (typeof c.method !== 'string') throw bad('invalid_rpc_request', `${where}.method must be a string`)
  if (!READ_METHODS.has(c.method))
    throw bad(
      'rpc_method_not_allowed',
      `${echo(c.method)} is not a read method this proxy serves; allowed: ${[...READ_METHODS].join(', ')}`,
    )
  const params = c.params ?? []
  if (!Array.isArray(params)) throw bad('invalid_rpc_request', `${where}.params must be an array`)
  const id = c.id ?? null
  if (id !== null && typeof id !== 'number' && typeof id !== 'string')
    throw bad('invalid_rpc_request', `${where}.id must be a number or a string`)
  // Calls and log queries only about this marketplace's contracts: the proxy is a verifier, not a gateway.
  if (c.method === 'eth_call') {
    const to = (params[0] as { to?: unknown } | undefined)?.to
    if (typeof to !== 'string' || !contracts.has(to.toLowerCase()))
      throw bad('rpc_target_not_allowed', `${where}: eth_call must be to one of the marketplace's contracts`)
    // A third parameter is a state override: it would run code of the caller's choosing on the node.
    if (params.length > 2) throw bad('invalid_rpc_request', `${where}: eth_call takes [call, block] only`)
  }
  if (c.method === 'eth_getLogs') {
    const filter = params[0] as { address?: unknown; blockHash?: unknown; fromBlock?: unknown; toBlock?: unknown }
    const addresses = Array.isArray(filter?.address) ? filter.address : [filter?.address]
    if (!addresses.length || addresses.some((a) => typeof a !== 'string' || !contracts.has(a.toLowerCase())))
      throw bad('rpc_target_not_allowed', `${where}: eth_getLogs must name only the marketplace's contracts as address`)
    for (const key of ['fromBlock', 'toBlock'] as const) {
      const v = filter[key]
      if (v !== undefined && (typeof v !== 'string' || !BLOCK.test(v)))
        throw bad('invalid_rpc_request', `${where}: ${key} must be a block tag or a hex block number`)
    }
  }
  if (c.method === 'eth_getTransactionByHash' || c.method === 'eth_getTransactionReceipt') {
    if (typeof params[0] !== 'string' || !HASH.test(params[0]))
      throw bad('invalid_rpc_request', `${where}: ${c.method} takes a 32-byte transaction hash`)
  }
  return { jsonrpc: '2.0', id, method: c.method, params }
}

/**
 * Log queries may not reach past the chain's head: a node asked for logs up to block 2^64 walks towards
 * it (hardhat did, and stopped answering anyone). Costs one eth_blockNumber, only when a log query names
 * a block by number.
 */
async function refuseBlocksPastHead(env: AppEnv['Bindings'], calls: RpcCall[]): Promise<void> {
  const numbered = calls.flatMap((call) => {
    if (call.method !== 'eth_getLogs') return []
    const f = call.params[0] as { fromBlock?: string; toBlock?: string }
    return [f.fromBlock, f.toBlock].filter((b): b is string => typeof b === 'string' && b.startsWith('0x'))
  })
  if (!numbered.length) return
  const [head] = await rpcBatch(env, [['eth_blockNumber', []]]).catch((err: unknown) => {
    if (err instanceof UnreachableError) throw err // 503
    throw new ApiError(502, 'rpc_upstream_failed', `the chain RPC could not say its head: ${(err as Error).message}`)
  })
  const past = numbered.find((b) => BigInt(b) > BigInt(head as string))
  if (past)
    throw bad(
      'rpc_block_out_of_range',
      `eth_getLogs: block ${BigInt(past)} is past the chain head ${BigInt(head as string)}`,
    )
}

export const rpc = new Hono<AppEnv>().post('/', async (c) => {
  const body = await readJson(
    c.req,
    MAX_REQUEST_BYTES,
    { code: 'invalid_json', message: 'the body must be a JSON-RPC 2.0 request or a batch of them' },
    { code: 'rpc_request_too_large', message: `JSON-RPC requests are limited to ${MAX_REQUEST_BYTES} bytes` },
  )
  const book = addressBook(c.env)
  const contracts = new Set(Object.values(book.contracts).map((a) => String(a).toLowerCase()))
  const batch = Array.isArray(body)
  const list = batch ? (body as unknown[]) : [body]
  if (!list.length) throw bad('invalid_rpc_request', 'an empty batch asks nothing')
  if (list.length > MAX_BATCH) throw bad('rpc_batch_too_large', `a batch may hold at most ${MAX_BATCH} calls`)
  const calls = list.map((raw, i) => checkCall(raw, contracts, batch ? `request[${i}]` : 'request'))
  await refuseBlocksPastHead(c.env, calls)

  const url = requireSetting(c.env, 'CHAIN_RPC_URL')
  const res = await reaching('the chain RPC', url, () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(batch ? calls : calls[0]),
      signal: AbortSignal.timeout(CHAIN_TIMEOUT_MS),
    }),
  )
  const answer = await res.text()
  if (answer.length > MAX_RESPONSE_BYTES)
    throw new ApiError(
      502,
      'rpc_response_too_large',
      `the chain's answer exceeds ${MAX_RESPONSE_BYTES} bytes; ask for a narrower block range`,
    )
  if (!res.ok) throw new ApiError(502, 'rpc_upstream_failed', `the chain RPC answered HTTP ${res.status}`)
  c.header('cache-control', 'no-store')
  return c.body(answer, 200, { 'content-type': 'application/json' })
})
