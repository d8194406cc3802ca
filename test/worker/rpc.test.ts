// POST /api/rpc inside workerd: read calls about the marketplace's contracts reach the chain unchanged;
// writes, foreign targets, oversized requests and answers are refused with a precise error.
import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { app } from '../../worker/src/index'

const LEDGER = '0x' + '22'.repeat(20)
const REGISTRY = '0x' + '33'.repeat(20)
const book = { chainId: 31337, contracts: { ComputeLedger: LEDGER, EnclaveRegistry: REGISTRY }, deployedAtBlock: 1 }
const base = { ...env, ADDRESS_BOOK: JSON.stringify(book), CHAIN_RPC_URL: 'http://chain.test' }

/** What reached the chain, and what it answers next. */
const seen: unknown[] = []
let answer: (body: unknown) => string = (body) =>
  JSON.stringify(
    Array.isArray(body)
      ? body.map((c: { id: number }) => ({ jsonrpc: '2.0', id: c.id, result: '0x7a69' }))
      : { jsonrpc: '2.0', id: (body as { id: number }).id, result: '0x7a69' },
  )

beforeAll(() => {
  const realFetch = globalThis.fetch
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.origin !== 'http://chain.test') return realFetch(input, init)
    const body = JSON.parse(String(init?.body))
    seen.push(body)
    return new Response(answer(body), { headers: { 'content-type': 'application/json' } })
  })
})
afterAll(() => vi.unstubAllGlobals())

async function post(body: unknown, raw?: string) {
  const res = await app.request(
    '/api/rpc',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) },
    base,
  )
  return { status: res.status, body: (await res.json()) as any }
}

describe('POST /api/rpc', () => {
  it('passes read calls and batches through to the chain and returns its answer', async () => {
    seen.length = 0
    const one = await post({ jsonrpc: '2.0', id: 7, method: 'eth_chainId', params: [] })
    expect(one).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 7, result: '0x7a69' } })
    const call = { to: LEDGER.toUpperCase().replace('0X', '0x'), data: '0x12345678' }
    const batch = await post([
      { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [call, 'latest'] },
      { jsonrpc: '2.0', id: 2, method: 'eth_getLogs', params: [{ address: [LEDGER, REGISTRY], fromBlock: '0x1' }] },
    ])
    expect(batch.status).toBe(200)
    expect(batch.body.map((r: { id: number }) => r.id)).toEqual([1, 2])
    // The log query names a block by number: the head is asked first (see the next tests).
    expect(seen[1]).toEqual([{ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] }])
    expect(seen[2]).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [call, 'latest'] },
      { jsonrpc: '2.0', id: 2, method: 'eth_getLogs', params: [{ address: [LEDGER, REGISTRY], fromBlock: '0x1' }] },
    ])
  })

  it.each([
    [{ jsonrpc: '2.0', id: 1, method: 'eth_sendRawTransaction', params: ['0x00'] }, 'rpc_method_not_allowed'],
    [{ jsonrpc: '2.0', id: 1, method: 'eth_accounts', params: [] }, 'rpc_method_not_allowed'],
    [{ jsonrpc: '2.0', id: 1, method: 'hardhat_setBalance', params: [] }, 'rpc_method_not_allowed'],
    [
      { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: '0x' + '44'.repeat(20), data: '0x' }] },
      'rpc_target_not_allowed',
    ],
    [{ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{ fromBlock: '0x0' }] }, 'rpc_target_not_allowed'],
    [{ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionByHash', params: ['0x12'] }, 'invalid_rpc_request'],
    [{ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: 'x' }, 'invalid_rpc_request'],
    [{ jsonrpc: '2.0', id: 1 }, 'invalid_rpc_request'],
    [[], 'invalid_rpc_request'],
    // A state override (third parameter) would run code of the caller's choosing on the node.
    [
      { jsonrpc: '2.0', id: 1, method: 'eth_call', params: [{ to: LEDGER, data: '0x' }, 'latest', { [LEDGER]: {} }] },
      'invalid_rpc_request',
    ],
    [
      { jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{ address: LEDGER, toBlock: 'tomorrow' }] },
      'invalid_rpc_request',
    ],
    [Array.from({ length: 21 }, (_, id) => ({ jsonrpc: '2.0', id, method: 'eth_chainId' })), 'rpc_batch_too_large'],
  ])('refuses %j with %s before reaching the chain', async (body, code) => {
    seen.length = 0
    const res = await post(body)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe(code)
    expect(res.body.error.message).toBeTruthy()
    expect(seen).toEqual([])
  })

  it('refuses a log query past the chain head (a node walks towards it and stops answering)', async () => {
    seen.length = 0
    const res = await post({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getLogs',
      params: [{ address: LEDGER, fromBlock: '0x0', toBlock: '0xffffffffffffffff' }],
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('rpc_block_out_of_range')
    expect(res.body.error.message).toMatch(/past the chain head 31337/)
    expect(seen).toEqual([[{ jsonrpc: '2.0', id: 0, method: 'eth_blockNumber', params: [] }]]) // and nothing else
  })

  it('answers 503 when the chain does not answer in time', async () => {
    const before = answer
    answer = () => {
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError')
    }
    try {
      const res = await post({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] })
      expect(res.status).toBe(503)
      expect(res.body.error.code).toBe('service_unavailable')
    } finally {
      answer = before
    }
  })

  it('refuses a write hidden in a batch of reads, naming its position', async () => {
    const res = await post([
      { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
      { jsonrpc: '2.0', id: 2, method: 'eth_sendTransaction', params: [{}] },
    ])
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('rpc_method_not_allowed')
    expect(res.body.error.message).toMatch(/eth_sendTransaction/)
  })

  it('refuses malformed JSON and oversized requests', async () => {
    expect((await post(undefined, '{"jsonrpc":')).body.error.code).toBe('invalid_json')
    const big = await post({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: ['x'.repeat(17 * 1024)] })
    expect(big.status).toBe(413)
    expect(big.body.error.code).toBe('rpc_request_too_large')
  })

  it('does not pass on an answer over the size limit', async () => {
    const previous = answer
    answer = (body) => JSON.stringify({ jsonrpc: '2.0', id: (body as { id: number }).id, result: 'x'.repeat(1 << 20) })
    try {
      const res = await post({ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{ address: LEDGER }] })
      expect(res.status).toBe(502)
      expect(res.body.error.code).toBe('rpc_response_too_large')
    } finally {
      answer = previous
    }
  })
})
