// Request limits (DESIGN §6): per client address for requests that are not reads, per buyer account for
// compute jobs, on the Workers Rate Limiting bindings declared in wrangler.toml (simulated by workerd).
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'
import { limitJobs } from '../../worker/src/middleware/rate-limit'

// A cheap write that touches nothing: /api/verify with a body it refuses (400 before any lookup).
const write = (ip?: string) =>
  app.request(
    '/api/verify',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(ip ? { 'cf-connecting-ip': ip } : {}) },
      body: '{}',
    },
    env,
  )

describe('the per-address limit on writes', () => {
  it('answers 429 rate_limited with Retry-After past 300 a minute from one address, and only to that address', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 300; i++) statuses.push((await write('203.0.113.7')).status)
    expect(statuses.every((s) => s === 400)).toBe(true)
    const refused = await write('203.0.113.7')
    expect(refused.status).toBe(429)
    expect(refused.headers.get('retry-after')).toBe('60')
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited', retryAfterSeconds: 60 } })
    // Another address, and reads from the limited one, go through.
    expect((await write('203.0.113.8')).status).toBe(400)
    const read = await app.request('/api/assets?limit=x', { headers: { 'cf-connecting-ip': '203.0.113.7' } }, env)
    expect(read.status).toBe(400)
  })

  it('does not count requests with no client address (handed to the app in-process)', async () => {
    for (let i = 0; i < 305; i++) expect((await write()).status).toBe(400)
  })
})

describe('the per-account limit on compute jobs', () => {
  it('refuses the 61st job of an account within a minute, not another account’s', async () => {
    const buyer = '0x' + 'ab'.repeat(20)
    for (let i = 0; i < 60; i++) await limitJobs(env, buyer)
    await expect(limitJobs(env, buyer)).rejects.toMatchObject({ status: 429, code: 'rate_limited' })
    await expect(limitJobs(env, '0x' + 'cd'.repeat(20))).resolves.toBeUndefined()
  })
})
