import { env } from 'cloudflare:workers'
import { describe, expect, it, vi } from 'vitest'
import { app } from '../../worker/src/index'
import { reaching, UnreachableError, withoutAddresses } from '../../worker/src/services/config'

type Health = { ok: boolean; components: Record<string, { ok: boolean; reason?: string; [k: string]: unknown }> }

const closed = 'http://127.0.0.1:9'
const base = {
  ...env,
  CHAIN_RPC_URL: closed,
  IPFS_API_URL: closed,
  ENCLAVE_URL: closed,
  ADDRESS_BOOK: JSON.stringify({ chainId: 31337, contracts: {} }),
}

async function health(overrides: Record<string, unknown> = {}) {
  const res = await app.request('/api/health', {}, { ...base, ...overrides })
  return { status: res.status, body: (await res.json()) as Health }
}

describe('GET /api/health', () => {
  describe('when D1 is migrated and the other components are unreachable', () => {
    it('answers 503 and reports each component with a reason', async () => {
      const { status, body } = await health()
      expect(status).toBe(503)
      expect(body.ok).toBe(false)
      expect(Object.keys(body.components).sort()).toEqual(['chain', 'd1', 'enclave', 'ipfs'])
      const migrations = env.TEST_MIGRATIONS
      expect(body.components.d1).toMatchObject({
        ok: true,
        migration: migrations.at(-1)!.name,
        applied: migrations.length,
      })
      for (const name of ['chain', 'ipfs', 'enclave']) {
        expect(body.components[name].ok).toBe(false)
        expect(body.components[name].reason).toMatch(/is not reachable \(/)
        // The report is public: the component is named, its address is not.
        expect(body.components[name].reason).not.toMatch(/127\.0\.0\.1|http:|:9\b/)
      }
    })

    it('never shows an address, even one with credentials in a setting', async () => {
      const { body } = await health({ IPFS_API_URL: 'http://operator:s3cret@10.20.30.40:5001' })
      expect(body.components.ipfs).toMatchObject({ ok: false, reason: expect.stringMatching(/\w/) })
      expect(JSON.stringify(body)).not.toMatch(/s3cret|operator|10\.20\.30\.40/)
    })
  })

  describe('when a setting is missing or malformed', () => {
    it('names the setting in the reason', async () => {
      const { body } = await health({ CHAIN_RPC_URL: undefined, IPFS_API_URL: 'not a url', ADDRESS_BOOK: '{' })
      expect(body.components.chain.reason).toMatch(/ADDRESS_BOOK: is not valid JSON|CHAIN_RPC_URL: is not set/)
      expect(body.components.ipfs.reason).toBe('IPFS_API_URL: is not a URL: "not a url"')
    })
    it('rejects an address book without a chain id', async () => {
      const { body } = await health({ ADDRESS_BOOK: JSON.stringify({ contracts: {} }) })
      expect(body.components.chain.reason).toMatch(/^ADDRESS_BOOK: needs/)
    })
  })

  describe('when no migration has been applied', () => {
    it('reports D1 as down with the reason', async () => {
      await env.DB.exec('DROP TABLE IF EXISTS d1_migrations_backup')
      await env.DB.exec('ALTER TABLE d1_migrations RENAME TO d1_migrations_backup')
      try {
        const { body } = await health()
        expect(body.components.d1).toEqual({ ok: false, reason: 'no migrations applied' })
      } finally {
        await env.DB.exec('ALTER TABLE d1_migrations_backup RENAME TO d1_migrations')
      }
    })
  })
})

describe('withoutAddresses', () => {
  it('hides URLs, IPv4 and bracketed IPv6 addresses with their ports, and keeps the rest', () => {
    expect(withoutAddresses('connect ECONNREFUSED 127.0.0.1:7100')).toBe('connect ECONNREFUSED <address>')
    expect(withoutAddresses('GET https://u:p@ipfs.internal:5001/api/v0/cat?arg=x failed')).toBe('GET <address> failed')
    expect(withoutAddresses('to [::1]:8545 and 10.0.0.7')).toBe('to <address> and <address>')
    expect(withoutAddresses('the chain RPC is not reachable (Network connection lost)')).toBe(
      'the chain RPC is not reachable (Network connection lost)',
    )
  })
})

describe('reaching', () => {
  it('tells the user which component is down and the operator where, never a secret in the URL', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const url = 'https://user:pass@rpc.example:8545/v3/secret-key?token=t'
      const err = await reaching('the chain RPC', url, () => fetch('http://127.0.0.1:9/')).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(UnreachableError)
      expect((err as Error).message).toMatch(/^the chain RPC is not reachable \(/)
      expect((err as Error).message).not.toMatch(/127\.0\.0\.1|rpc\.example/)
      // Logged once, where it was raised, with the origin only.
      expect(log).toHaveBeenCalledTimes(1)
      const line = String(log.mock.calls[0][0])
      expect(line).toContain('at https://rpc.example:8545')
      expect(line).not.toMatch(/user|pass|secret-key|token/)
    } finally {
      log.mockRestore()
    }
  })

  it('passes on other failures untouched and unlogged', async () => {
    const log = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      const bad = new TypeError('Invalid header value')
      await expect(reaching('IPFS', 'http://ipfs', () => Promise.reject(bad))).rejects.toBe(bad)
      expect(log).not.toHaveBeenCalled()
    } finally {
      log.mockRestore()
    }
  })
})

describe('unknown API routes', () => {
  it('answer 404 with the error shape', async () => {
    const res = await app.request('/api/nope', {}, base)
    expect(res.status).toBe(404)
    expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'No route for GET /api/nope' } })
  })
})
