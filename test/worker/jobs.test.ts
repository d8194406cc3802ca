// Compute jobs inside workerd against real D1, R2 and Queues, for everything that needs no chain: request
// validation before any chain read, the status/result/receipt views, the sweeper (expiry, re-enqueue,
// retention) and the consumer's handling of an unreachable enclave and of the dead-letter queue. The
// chain-backed flow is in test/e2e/jobs.test.ts.
import { env } from 'cloudflare:workers'
import { Wallet, type TypedDataField } from 'ethers'
import { beforeEach, describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'
import { handleJobBatch, JOBS_DLQ, JOBS_QUEUE, type JobMessage } from '../../worker/src/jobs/queue'
import { receiptRefusal } from '../../worker/src/jobs/run'
import { resultKey } from '../../worker/src/jobs/store'
import { ContractRevertError } from '../../worker/src/services/relayer'
import { sweepJobs } from '../../worker/src/jobs/sweeper'
import { queryHashOf } from '../../tee-sim/src/canonical-json'
import { JOB_REQUEST_TYPES, jobRequestDomain } from '../../tee-sim/src/eip712'
import { jobIdOf, type JobRequest } from '../../tee-sim/src/job-request'

const MARKET = '0x' + '22'.repeat(20)
const book = {
  chainId: 31337,
  contracts: { DataMarket: MARKET, ComputeLedger: '0x' + '33'.repeat(20), DataAssetNFT: '0x' + '44'.repeat(20) },
  deployedAtBlock: 1,
}
// Port 9 (discard) is closed: any chain or enclave call fails, so these tests prove nothing reaches them.
const base = {
  ...env,
  CHAIN_RPC_URL: 'http://127.0.0.1:9',
  ENCLAVE_URL: 'http://127.0.0.1:9',
  ADDRESS_BOOK: JSON.stringify(book),
}
const buyer = new Wallet('0x' + '4b'.repeat(32))
const now = () => Math.floor(Date.now() / 1000)
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const
const QUERY = 'SELECT COUNT(*) AS n FROM data'

async function signed(overrides: Partial<JobRequest> = {}, query = QUERY) {
  const request: JobRequest = {
    licenceId: '1',
    contentHash: hex32(0xc0),
    queryHash: queryHashOf(query),
    resultPublicKey: hex32(0xb0),
    nonce: hex32(Math.floor(Math.random() * 1e9)),
    deadline: now() + 600,
    ...overrides,
  }
  const types = { JobRequest: [...JOB_REQUEST_TYPES.JobRequest] } as Record<string, TypedDataField[]>
  const signature = await buyer.signTypedData(jobRequestDomain(31337, MARKET) as never, types, request)
  return { request, signature, query }
}

const post = (body: unknown) =>
  app.request(
    '/api/jobs',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
    base,
  )

async function rowCount(): Promise<number> {
  return (await env.DB.prepare('SELECT COUNT(*) AS n FROM compute_jobs').first<{ n: number }>())!.n
}

/** A job row as submission writes it, with overrides. */
async function insertJob(fields: Record<string, unknown> = {}) {
  const row: Record<string, unknown> = {
    job_id: hex32(Math.floor(Math.random() * 1e12)),
    chain_id: 31337,
    buyer: buyer.address.toLowerCase(),
    licence_id: '1',
    token_id: '1',
    content_hash: hex32(0xc0),
    query_hash: queryHashOf(QUERY),
    query: QUERY,
    result_public_key: hex32(0xb0),
    nonce: hex32(Math.floor(Math.random() * 1e12)),
    deadline: now() + 600,
    signature: '0x' + '11'.repeat(65),
    ciphertext_cid: 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy',
    origin: 'http://127.0.0.1:8787',
    status: 'queued',
    attempts: 0,
    created_at: now(),
    updated_at: now(),
    ...fields,
  }
  const cols = Object.keys(row)
  await env.DB.prepare(`INSERT INTO compute_jobs (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`)
    .bind(...cols.map((c) => row[c]))
    .run()
  return row as { job_id: string; nonce: string } & Record<string, unknown>
}

const jobRow = (id: string) =>
  env.DB.prepare('SELECT * FROM compute_jobs WHERE job_id = ?').bind(id).first<Record<string, unknown>>()

/** A batch as the Queues runtime hands it to the consumer, recording acks and retries. */
function batchOf(queue: string, jobIds: string[], attempts = 1) {
  const acked: string[] = []
  const retried: string[] = []
  const batch = {
    queue,
    messages: jobIds.map((jobId) => ({
      id: `m-${jobId}`,
      timestamp: new Date(),
      attempts,
      body: { jobId },
      ack: () => acked.push(jobId),
      retry: () => retried.push(jobId),
    })),
    ackAll: () => undefined,
    retryAll: () => undefined,
  } as unknown as MessageBatch<JobMessage>
  return { batch, acked, retried }
}

beforeEach(async () => {
  await env.DB.prepare('DELETE FROM compute_jobs').run()
})

describe('POST /api/jobs', () => {
  it.each([
    ['not JSON', 400, 'invalid_json', '{'],
    ['no request', 400, 'invalid_job', { signature: '0x' + '11'.repeat(65), query: QUERY }],
    ['an extra field', 400, 'invalid_job', { request: {}, signature: '0x' + '11'.repeat(65), query: QUERY, extra: 1 }],
    ['a short signature', 400, 'invalid_job', { request: {}, signature: '0x1234', query: QUERY }],
    ['an empty query', 400, 'invalid_job', { request: {}, signature: '0x' + '11'.repeat(65), query: '' }],
    [
      'a licence id that is not a decimal string',
      400,
      'invalid_job',
      { request: { licenceId: 1 }, signature: '0x' + '11'.repeat(65), query: QUERY },
    ],
  ])('refuses %s → %i %s, writing nothing', async (_what, status, code, body) => {
    const res = await post(body)
    expect(res.status).toBe(status)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code)
    expect(await rowCount()).toBe(0)
  })

  it('refuses a query whose text is not the signed hash → 400 query_hash_mismatch', async () => {
    const body = await signed()
    const res = await post({ ...body, query: 'SELECT COUNT(*) AS m FROM data' })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: { code: 'query_hash_mismatch' } })
    expect(await rowCount()).toBe(0)
  })

  it('refuses a deadline that has passed (or is too close) and one too far ahead', async () => {
    for (const [deadline, code] of [
      [now() - 1, 'deadline_passed'],
      [now() + 3, 'deadline_passed'],
      [now() + 30 * 86400, 'deadline_too_far'],
    ] as const) {
      const res = await post(await signed({ deadline }))
      expect(res.status).toBe(400)
      expect(await res.json()).toMatchObject({ error: { code } })
    }
    expect(await rowCount()).toBe(0)
  })

  it('refuses a signature that recovers to no address → 401 request_signature_invalid', async () => {
    const body = await signed()
    const res = await post({ ...body, signature: `0x${'00'.repeat(64)}1b` })
    expect(res.status).toBe(401)
    expect(await res.json()).toMatchObject({ error: { code: 'request_signature_invalid' } })
    expect(await rowCount()).toBe(0)
  })

  it('refuses a nonce the buyer already used → 409 nonce_used naming the first job, before any chain read', async () => {
    const body = await signed()
    const first = await insertJob({ nonce: body.request.nonce, job_id: jobIdOf(body.request, 31337, MARKET) })
    const res = await post(body)
    expect(res.status).toBe(409)
    expect(await res.json()).toEqual({
      error: { code: 'nonce_used', message: expect.any(String), jobId: first.job_id },
    })
    expect(await rowCount()).toBe(1)
  })

  it('answers 503 without a stack trace when the chain is unreachable, and writes nothing', async () => {
    const res = await post(await signed())
    expect(res.status).toBe(503)
    expect(await res.json()).toEqual({
      error: {
        code: 'service_unavailable',
        // Which component, and the system's reason, with no address in it.
        message: expect.stringMatching(
          /^The chain RPC is not reachable \((?!.*127\.0\.0\.1).*\)\. Try again shortly\.$/,
        ),
      },
    })
    expect(await rowCount()).toBe(0)
  })
})

describe('GET /api/jobs/:id', () => {
  it('validates the id and answers 404 for an unknown job', async () => {
    expect((await app.request('/api/jobs/0x12', {}, base)).status).toBe(400)
    const res = await app.request(`/api/jobs/${hex32(5)}`, {}, base)
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ error: { code: 'job_not_found' } })
  })

  it('shows a queued job; its result and receipt are 409 until it succeeds', async () => {
    const row = await insertJob()
    const res = await app.request(`/api/jobs/${row.job_id}`, {}, base)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ jobId: row.job_id, status: 'queued', licenceId: '1', attempts: 0 })
    for (const path of ['result', 'receipt']) {
      const r = await app.request(`/api/jobs/${row.job_id}/${path}`, {}, base)
      expect(r.status).toBe(409)
      expect(await r.json()).toMatchObject({ error: { code: 'job_not_succeeded', status: 'queued' } })
    }
  })

  it('shows why a job failed', async () => {
    const row = await insertJob({
      status: 'failed',
      reason_code: 'query_rejected',
      reason_message: 'SELECT * would expose rows',
    })
    expect(await (await app.request(`/api/jobs/${row.job_id}`, {}, base)).json()).toMatchObject({
      status: 'failed',
      reason: { code: 'query_rejected', message: 'SELECT * would expose rows' },
    })
  })

  it('serves a succeeded job’s sealed bytes from R2 with its receipt, and 410 once retention removed them', async () => {
    const receipt = {
      receipt: { jobId: 'x', resultHash: hex32(7) },
      signature: '0x',
      signer: '0x',
      chainId: 31337,
      computeLedger: '0x',
    }
    const row = await insertJob({
      status: 'succeeded',
      receipt: JSON.stringify(receipt),
      result_hash: hex32(7),
      receipt_tx: hex32(8),
      receipt_block: 12,
    })
    await env.BLOBS.put(resultKey(row.job_id), new Uint8Array([1, 2, 254]))
    const res = await app.request(`/api/jobs/${row.job_id}/result`, {}, base)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({
      jobId: row.job_id,
      sealedResult: '0x0102fe',
      resultHash: hex32(7),
      receipt,
      txHash: hex32(8),
    })
    const raw = await app.request(
      `/api/jobs/${row.job_id}/result`,
      { headers: { accept: 'application/octet-stream' } },
      base,
    )
    expect(new Uint8Array(await raw.arrayBuffer())).toEqual(new Uint8Array([1, 2, 254]))
    expect(await (await app.request(`/api/jobs/${row.job_id}/receipt`, {}, base)).json()).toMatchObject({
      jobId: row.job_id,
      txHash: hex32(8),
      blockNumber: 12,
    })

    await env.DB.prepare('UPDATE compute_jobs SET result_expires_at = ? WHERE job_id = ?')
      .bind(now() - 1, row.job_id)
      .run()
    expect(await sweepJobs(base)).toMatchObject({ resultsDeleted: 1 })
    expect(await env.BLOBS.get(resultKey(row.job_id))).toBeNull()
    const gone = await app.request(`/api/jobs/${row.job_id}/result`, {}, base)
    expect(gone.status).toBe(410)
    expect(await gone.json()).toMatchObject({ error: { code: 'result_deleted', resultHash: hex32(7) } })
  })
})

describe('the sweeper (cron)', () => {
  it('expires live jobs past their deadline that the enclave never answered, and re-enqueues stale ones', async () => {
    const overdue = await insertJob({ deadline: now() - 1, status: 'running' })
    const stale = await insertJob({ updated_at: now() - 10_000 })
    const fresh = await insertJob()
    const answered = await insertJob({
      deadline: now() - 1,
      status: 'running',
      receipt: '{}',
      updated_at: now() - 10_000,
    })
    const report = await sweepJobs(base)
    expect(report).toEqual({ expired: 1, requeued: 2, resultsDeleted: 0 })
    expect(await jobRow(overdue.job_id)).toMatchObject({ status: 'expired', reason_code: 'deadline_passed' })
    // An answered job past its deadline is left to the consumer, which checks the chain before expiring it.
    expect(await jobRow(answered.job_id)).toMatchObject({ status: 'running' })
    expect((await jobRow(stale.job_id))!.updated_at).toBeGreaterThan(now() - 5)
    expect(await jobRow(fresh.job_id)).toMatchObject({ status: 'queued' })
  })
})

describe('the queue consumer', () => {
  it('retries a job while the enclave is unreachable until its deadline, then expires it naming the enclave', async () => {
    const row = await insertJob()
    const first = batchOf(JOBS_QUEUE, [row.job_id])
    await handleJobBatch(first.batch, base)
    expect(first).toMatchObject({ acked: [], retried: [row.job_id] })
    const during = await jobRow(row.job_id)
    expect(during).toMatchObject({ status: 'running', attempts: 1 })
    expect(JSON.parse(String(during!.last_error))).toMatchObject({ code: 'enclave_unavailable' })
    // The buyer sees why the job is still waiting.
    const view = await (await app.request(`/api/jobs/${row.job_id}`, {}, base)).json()
    expect(view).toMatchObject({ status: 'running', retrying: { code: 'enclave_unavailable' } })

    // The queue's retries are used up, but the buyer's deadline is not: the job stays live for the sweeper.
    const dead = batchOf(JOBS_DLQ, [row.job_id])
    await handleJobBatch(dead.batch, base)
    expect(dead.acked).toEqual([row.job_id])
    expect(await jobRow(row.job_id)).toMatchObject({ status: 'running', result_deleted: 0 })

    // At the deadline it expires, costing nothing, and says what kept it from running.
    expect(await sweepJobs(base, Number(row.deadline) + 1)).toMatchObject({ expired: 1 })
    const ended = await jobRow(row.job_id)
    expect(ended).toMatchObject({ status: 'expired', reason_code: 'deadline_passed', result_deleted: 1 })
    expect(ended!.reason_message).toMatch(
      /before the job could run \(the last attempt: .*not reachable.*\); nothing was charged/,
    )
    expect(await (await app.request(`/api/jobs/${row.job_id}`, {}, base)).json()).not.toHaveProperty('retrying')
  })

  it("fails a job at the dead-letter queue when the worker's own code kept failing", async () => {
    const row = await insertJob({
      status: 'running',
      last_error: JSON.stringify({ code: 'internal', message: 'boom' }),
    })
    const dead = batchOf(JOBS_DLQ, [row.job_id])
    await handleJobBatch(dead.batch, base)
    expect(await jobRow(row.job_id)).toMatchObject({ status: 'failed', reason_code: 'internal', result_deleted: 1 })
    expect((await jobRow(row.job_id))!.reason_message).toMatch(/gave up after .* attempts: boom; nothing was charged/)
  })

  it('retries the recording of an answered job while the chain is down, never failing it', async () => {
    const receipt = {
      receipt: {
        jobId: hex32(1),
        licenceId: '1',
        contentHash: hex32(0xc0),
        queryHash: queryHashOf(QUERY),
        resultHash: hex32(2),
        epsilonSpentMilli: 1000,
        measurement: hex32(3),
      },
      signature: '0x' + '11'.repeat(65),
    }
    const row = await insertJob({ status: 'running', receipt: JSON.stringify(receipt) })
    const b = batchOf(JOBS_QUEUE, [row.job_id])
    await handleJobBatch(b.batch, { ...base, RELAYER_KEY: '0x' + '5a'.repeat(32) })
    expect(b.retried).toEqual([row.job_id])
    const after = await jobRow(row.job_id)
    expect(after).toMatchObject({ status: 'running', receipt_tx: null })
    expect(JSON.parse(String(after!.last_error))).toMatchObject({ code: 'chain_unavailable' })
  })

  it('leaves an answered job to be retried when its message dies: the receipt must still land or expire', async () => {
    const row = await insertJob({ status: 'running', receipt: '{}' })
    await handleJobBatch(batchOf(JOBS_DLQ, [row.job_id]).batch, base)
    expect(await jobRow(row.job_id)).toMatchObject({ status: 'running' })
  })

  it('acks finished jobs and unknown ids without touching them (idempotent redelivery)', async () => {
    const done = await insertJob({ status: 'succeeded' })
    const b = batchOf(JOBS_QUEUE, [done.job_id, hex32(99)])
    await handleJobBatch(b.batch, base)
    expect(b.acked).toEqual([done.job_id, hex32(99)])
    expect(await jobRow(done.job_id)).toMatchObject({ status: 'succeeded', attempts: 0 })
  })

  it('expires a job delivered past its deadline through the real queue, without calling the enclave', async () => {
    const row = await insertJob({ deadline: now() - 1 })
    await env.JOBS.send({ jobId: row.job_id })
    let status: unknown
    for (let i = 0; i < 50 && status !== 'expired'; i++) {
      await new Promise((r) => setTimeout(r, 100))
      status = (await jobRow(row.job_id))?.status
    }
    expect(await jobRow(row.job_id)).toMatchObject({ status: 'expired', reason_code: 'deadline_passed', attempts: 0 })
  })
})

describe('a receipt the ledger refuses', () => {
  it('fails the job with a stable code and what happened in words, the contract error kept for support', () => {
    expect(receiptRefusal(new ContractRevertError('DataMarketLicenceExpired', [6n, 1_700_000_000n]))).toEqual({
      code: 'licence_expired',
      message:
        'the licence expired before the result could be recorded; nothing was charged (DataMarketLicenceExpired(6, 1700000000))',
    })
    expect(receiptRefusal(new ContractRevertError('SomethingNew', []))).toEqual({
      code: 'receipt_refused',
      message: 'the ledger refused the receipt; nothing was charged (SomethingNew())',
    })
  })
})
