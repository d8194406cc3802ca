import { describe, expect, it } from 'vitest'
import { createHostApp } from '../../tee-sim/src/host/app'
import { HostChain } from '../../tee-sim/src/host/chain'
import { marketplace, salesCsv } from './support'

async function setup() {
  const m = await marketplace(salesCsv(400))
  const urls: string[] = []
  const { app } = createHostApp({
    enclave: m.enclave,
    chain: new HostChain(undefined, undefined),
    limits: { maxJsonBytes: 8 * 1024 },
    fetchCiphertext: async (url) => {
      urls.push(url)
      return new Blob([m.d.ciphertext]).stream()
    },
    logError: () => {},
  })
  const post = (body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    app.request('/jobs', { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers })
  return { m, app, post, urls }
}

describe('POST /jobs', () => {
  it('runs a signed job and answers the sealed result and the receipt', async () => {
    const { m, post, urls } = await setup()
    const job = await m.sign('SELECT COUNT(*) AS n FROM data')
    const res = await post({ ...job, ciphertextUrl: 'http://127.0.0.1:8080/ipfs/bafy' })
    expect(res.status).toBe(200)
    const out = await res.json()
    expect(Object.keys(out).sort()).toEqual(['jobId', 'receipt', 'sealedResult'])
    const r = await m.open(out)
    expect(r.columns).toEqual(['n'])
    expect(urls).toEqual(['http://127.0.0.1:8080/ipfs/bafy'])
  })

  it('maps every refusal to a clear 4xx and fetches nothing', async () => {
    const { m, post, urls } = await setup()
    const ok = await m.sign('SELECT COUNT(*) FROM data')
    const url = 'http://127.0.0.1:8080/ipfs/bafy'
    const cases: [unknown, number, string][] = [
      ['{nope', 400, 'invalid_json'],
      [{ ...ok }, 400, 'invalid_ciphertext_url'],
      [{ ...ok, ciphertextUrl: 'file:///etc/passwd' }, 400, 'invalid_ciphertext_url'],
      [{ ...ok, ciphertextUrl: url, signature: '0x12' }, 400, 'invalid_input'],
      [{ ...ok, ciphertextUrl: url, request: { ...ok.request, licenceId: 'x' } }, 400, 'invalid_input'],
      [{ ...(await m.sign('SELECT * FROM data')), ciphertextUrl: url }, 400, 'query_rejected'],
      [{ ...(await m.sign('SELECT MIN(price) FROM data')), ciphertextUrl: url }, 403, 'policy_violation'],
      [
        { ...(await m.sign('SELECT COUNT(*) FROM data', { licenceId: '77' })), ciphertextUrl: url },
        403,
        'licence_invalid',
      ],
      [
        { ...ok, ciphertextUrl: url, request: { ...ok.request, deadline: ok.request.deadline + 1 } },
        401,
        'request_signature_invalid',
      ],
      [{ ...ok, ciphertextUrl: url, pad: 'x'.repeat(9000) }, 413, 'payload_too_large'],
    ]
    for (const [body, status, code] of cases) {
      const res = await post(body)
      expect(res.status, code).toBe(status)
      expect((await res.json()).error.code).toBe(code)
    }
    const wrongType = await post({ ...ok, ciphertextUrl: url }, { 'content-type': 'text/plain' })
    expect(wrongType.status).toBe(415)
    expect(urls).toEqual([])
  })

  it('answers 429 when the budget is exhausted and 503 when the chain is down', async () => {
    const { m, post } = await setup()
    const url = 'http://127.0.0.1:8080/ipfs/bafy'
    const l = m.chain.licences.get(1n)!
    m.chain.licences.set(1n, { ...l, epsilonLeftMilli: 500n })
    const r1 = await post({ ...(await m.sign('SELECT COUNT(*) FROM data')), ciphertextUrl: url })
    expect(r1.status).toBe(429)
    expect((await r1.json()).error.code).toBe('budget_exhausted')
    m.chain.down = true
    const r2 = await post({ ...(await m.sign('SELECT COUNT(*) FROM data')), ciphertextUrl: url })
    expect(r2.status).toBe(503)
    expect((await r2.json()).error.code).toBe('chain_unavailable')
  })
})

describe('POST /jobs/check', () => {
  it('answers the ε a job would cost, or the refusal it would get, and reserves or fetches nothing', async () => {
    const { m, app, urls } = await setup()
    const check = (body: unknown) =>
      app.request('/jobs/check', {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      })
    const ok = await check(await m.sign('SELECT COUNT(*) AS n FROM data'))
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ epsilonSpentMilli: 1000 })
    for (const [query, status, code] of [
      ['SELECT * FROM data', 400, 'query_rejected'],
      ['SELECT MIN(price) FROM data', 403, 'policy_violation'],
      ['SELECT COUNT(*) FROM data JOIN x ON data.a = x.a', 403, 'policy_violation'],
    ] as const) {
      const res = await check(await m.sign(query))
      expect(res.status).toBe(status)
      expect(await res.json()).toMatchObject({ error: { code } })
    }
    const unknown = await m.sign('SELECT COUNT(*) FROM data', { contentHash: `0x${'ee'.repeat(32)}` })
    expect((await check(unknown)).status).toBe(404)
    expect((await check({ request: {}, query: 'SELECT 1' })).status).toBe(400)
    expect(m.enclave.state.ledger).toEqual({})
    expect(urls).toEqual([])
    // A build the supervisor retired: refused now, as the job would be at run time.
    m.chain.approved.clear()
    const retired = await check(await m.sign('SELECT COUNT(*) AS n FROM data'))
    expect(retired.status).toBe(503)
    expect(await retired.json()).toMatchObject({ error: { code: 'measurement_not_approved' } })
  })
})

describe('POST /jobs across assets', () => {
  it('needs one ciphertext URL per part', async () => {
    const { m, post, urls } = await setup()
    const job = await m.sign('SELECT COUNT(*) FROM data')
    const request = {
      parts: [
        { licenceId: '1', contentHash: m.d.contentHash, table: 'a' },
        { licenceId: '2', contentHash: `0x${'ee'.repeat(32)}`, table: 'b' },
      ],
      queryHash: job.request.queryHash,
      resultPublicKey: job.request.resultPublicKey,
      nonce: job.request.nonce,
      deadline: job.request.deadline,
    }
    for (const ciphertextUrls of [undefined, ['http://127.0.0.1:8080/ipfs/a'], ['http://x/a', 'file:///etc/passwd']]) {
      const res = await post({ request, signature: job.signature, query: job.query, ciphertextUrls })
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_ciphertext_url' } })
    }
    expect(urls).toEqual([])
  })
})
