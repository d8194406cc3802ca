// The worker's one adapter to the EVM chain (R42): any JSON-RPC endpoint, chosen by configuration.
import { Interface, type InterfaceAbi, type Result } from 'ethers'
import type { Bindings } from '../env'
import { addressBook, reaching, requireSetting, type AddressBook } from './config'

interface RpcResponse {
  id: number
  result?: unknown
  error?: { code: number; message: string }
}

/**
 * How long the worker waits for the chain: a node that stops answering (or is wedged by a heavy query)
 * must turn into a 503 for the caller, not a request that never ends.
 */
export const CHAIN_TIMEOUT_MS = 30_000

/** One JSON-RPC batch: a single round trip for several reads. Errors name the method that failed. */
export async function rpcBatch(env: Bindings, calls: Array<[method: string, params: unknown[]]>): Promise<unknown[]> {
  const url = requireSetting(env, 'CHAIN_RPC_URL')
  const res = await reaching('the chain RPC', url, () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))),
      signal: AbortSignal.timeout(CHAIN_TIMEOUT_MS),
    }),
  )
  if (!res.ok) throw new Error(`chain RPC answered HTTP ${res.status}`)
  const body = (await res.json()) as RpcResponse[]
  if (!Array.isArray(body)) throw new Error('chain RPC does not support batch requests')
  const byId = new Map(body.map((r) => [r.id, r]))
  return calls.map(([method], id) => {
    const r = byId.get(id)
    if (!r) throw new Error(`chain RPC gave no answer to ${method}`)
    if (r.error) throw new Error(`${method} failed: ${r.error.message}`)
    return r.result
  })
}

export interface ChainStatus {
  chainId: number
  blockNumber: number
  contracts: AddressBook['contracts']
}

/**
 * Reads chain id and head, and checks that every contract in the address book has code on this chain,
 * so a restarted dev chain without a fresh deployment is reported rather than discovered later.
 */
export async function chainStatus(env: Bindings): Promise<ChainStatus> {
  const book = addressBook(env)
  const names = Object.keys(book.contracts).sort()
  const [chainIdHex, blockHex, ...codes] = await rpcBatch(env, [
    ['eth_chainId', []],
    ['eth_blockNumber', []],
    ...names.map((n) => ['eth_getCode', [book.contracts[n], 'latest']] as [string, unknown[]]),
  ])
  const chainId = Number(chainIdHex)
  if (chainId !== book.chainId) {
    throw new Error(`chain reports chainId ${chainId} but the address book is for ${book.chainId}`)
  }
  const missing = names.filter((_, i) => codes[i] === '0x' || codes[i] === '0x0')
  if (missing.length)
    throw new Error(`no contract code at ${missing.map((n) => `${n} (${book.contracts[n]})`).join(', ')}`)
  return { chainId, blockNumber: Number(blockHex), contracts: book.contracts }
}

/** Reads view functions over one JSON-RPC batch; each call names a contract in the address book. */
export async function readContracts(
  env: Bindings,
  calls: Array<{ contract: string; abi: InterfaceAbi; fn: string; args?: unknown[] }>,
): Promise<Result[]> {
  const book = addressBook(env)
  const prepared = calls.map((c) => {
    const to = book.contracts[c.contract]
    if (!to) throw new Error(`ADDRESS_BOOK has no ${c.contract}`)
    const iface = new Interface(c.abi)
    return {
      iface,
      fn: c.fn,
      call: ['eth_call', [{ to, data: iface.encodeFunctionData(c.fn, c.args ?? []) }, 'latest']] as [string, unknown[]],
    }
  })
  const results = (await rpcBatch(
    env,
    prepared.map((p) => p.call),
  )) as string[]
  return results.map((data, i) => prepared[i].iface.decodeFunctionResult(prepared[i].fn, data))
}
