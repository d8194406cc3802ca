// GET /api/wallet never offers the development wallet unless every check says "local development chain"
// (issue 7): the chain id, a loopback RPC URL and a node that answers as Hardhat. The positive case, with
// a real hardhat node, is in test/e2e/site-flows.test.ts.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'

const book = (chainId: number) =>
  JSON.stringify({
    chainId,
    contracts: { DataMarket: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0' },
    deployedAtBlock: 3,
  })

async function walletConfig(over: Record<string, unknown>) {
  const res = await app.request('/api/wallet', {}, { ...env, ...over })
  expect(res.status).toBe(200)
  return (await res.json()) as { chainId: number; rpcUrl: string | null; devWallet: unknown }
}

describe('GET /api/wallet', () => {
  it('offers no development wallet on another chain id, even on a loopback RPC', async () => {
    const body = await walletConfig({ ADDRESS_BOOK: book(1), CHAIN_RPC_URL: 'http://127.0.0.1:9' })
    expect(body).toMatchObject({ chainId: 1, rpcUrl: null, devWallet: null })
  })

  it('offers no development wallet for chain id 31337 behind a non-loopback RPC', async () => {
    const body = await walletConfig({ ADDRESS_BOOK: book(31337), CHAIN_RPC_URL: 'https://rpc.example.com' })
    expect(body).toMatchObject({ chainId: 31337, rpcUrl: null, devWallet: null })
  })

  it('fails closed when the loopback chain cannot be asked what it is', async () => {
    const body = await walletConfig({ ADDRESS_BOOK: book(31337), CHAIN_RPC_URL: 'http://127.0.0.1:9' })
    expect(body).toMatchObject({ rpcUrl: null, devWallet: null })
    expect(JSON.stringify(body)).not.toMatch(/test test test/)
  })
})

describe('GET /api/reports/buyer/:address', () => {
  it('refuses a malformed address with 400 invalid_address', async () => {
    const res = await app.request('/api/reports/buyer/0x1234', {}, env)
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_address' } })
  })
})
