// Jobs across assets of several owners (R67) inside workerd against real D1, R2 and Queues, for what needs
// no chain: request validation before any chain read, the parts in the job view and the per-part
// ciphertext route, the consumer's retries, and how the worker translates the enclave's query check into a
// 422 at submission. The chain-backed flow is in test/e2e/multi-owner-jobs.test.ts.
import { env } from 'cloudflare:workers'
import { Wallet, type TypedDataField } from 'ethers'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { app } from '../../worker/src/index'
import { checkQueryWithEnclave } from '../../worker/src/jobs/check'
import { handleJobBatch, JOBS_QUEUE, type JobMessage } from '../../worker/src/jobs/queue'
import { queryHashOf } from '../../tee-sim/src/canonical-json'
import { MULTI_JOB_REQUEST_TYPES, jobRequestDomain } from '../../tee-sim/src/eip712'
import {
  MeasurementNotApprovedError,
  PolicyViolationError,
  QueryRejectedError,
  UnknownAssetError,
} from '../../tee-sim/src/errors'
import { toProblem } from '../../tee-sim/src/host/errors'
import { multiJobIdOf, type MultiJobRequest } from '../../tee-sim/src/job-request'

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
const buyer = new Wallet('0x' + '4c'.repeat(32))
const now = () => Math.floor(Date.now() / 1000)
const hex32 = (n: number) => `0x${n.toString(16).padStart(64, '0')}` as const
const QUERY = 'SELECT COUNT(*) AS shared FROM a JOIN b ON a.id = b.id'
const TYPES = {
  MultiJobRequest: [...MULTI_JOB_REQUEST_TYPES.MultiJobRequest],
  JobPart: [...MULTI_JOB_REQUEST_TYPES.JobPart],
} as Record<string, TypedDataField[]>

async function signed(overrides: Partial<MultiJobRequest> = {}, query = QUERY) {
  const request: MultiJobRequest = {
    parts: [
      { licenceId: '1', contentHash: hex32(0xa0), table: 'a' },
      { licenceId: '2', contentHash: hex32(0xb0), table: 'b' },
    ],
    queryHash: queryHashOf(query),
    resultPublicKey: hex32(0xcc),
    nonce: hex32(Math.floor(Math.random() * 1e9)),
    deadline: now() + 600,
    ...overrides,
  }
  const signature = await buyer.signTypedData(jobRequestDomain(31337, MARKET) as never, TYPES, request)
  return { request, signature, query }
}

const post = (body: unknown) =>
  app.request(
    '/api/jobs',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    base,
  )

const count = async (table: string) =>
  (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>())!.n

/** A multi-asset job as submission writes it: the job row (first part) and one row per part. */
async function insertMultiJob(fields: Record<string, unknown> = {}) {
  const body = await signed()
  const jobId = multiJobIdOf(body.request, 31337, MARKET)
  const row: Record<string, unknown> = {
    job_id: jobId,
    chain_id: 31337,
    buyer: buyer.address.toLowerCase(),
    licence_id: '1',
    token_id: '1',
    content_hash: hex32(0xa0),
    query_hash: queryHashOf(QUERY),
    query: QUERY,
    result_public_key: hex32(0xcc),
    nonce: body.request.nonce,
    deadline: body.request.deadline,
    signature: body.signature,
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
  for (const [part, p] of body.request.parts.entries()) {
    await env.DB.prepare(
      'INSERT INTO compute_job_parts (job_id, part, chain_id, licence_id, token_id, content_hash, table_name, ciphertext_cid) VALUES (?, ?, 31337, ?, ?, ?, ?, ?)',
    )
      .bind(jobId, part, p.licenceId, String(part + 1), p.contentHash, p.table, `bafkreicid${part}`)
      .run()
  }
  return { jobId, body }
}

beforeEach(async () => {
  await env.DB.prepare('DELETE FROM compute_jobs').run()
  await env.DB.prepare('DELETE FROM compute_job_parts').run()
})
afterEach(() => {
  vi.restoreAllMocks()
})

describe('POST /api/jobs with parts (R67)', () => {
  it.each([
    ['one part only', (b: MultiJobRequest) => ({ ...b, parts: b.parts.slice(0, 1) }), /2 to 8/],
    [
      'a licence twice',
      (b: MultiJobRequest) => ({ ...b, parts: [b.parts[0], { ...b.parts[1], licenceId: '1' }] }),
      /two parts/,
    ],
    [
      'an asset twice',
      (b: MultiJobRequest) => ({ ...b, parts: [b.parts[0], { ...b.parts[1], contentHash: hex32(0xa0) }] }),
      /two parts/,
    ],
    [
      'a bad table name',
      (b: MultiJobRequest) => ({ ...b, parts: [b.parts[0], { ...b.parts[1], table: 'B-2' }] }),
      /table/,
    ],
    ['no parts array', (b: MultiJobRequest) => ({ ...b, parts: 'a,b' }), /parts/],
  ])('refuses %s → 400 invalid_job, writing nothing', async (_what, mutate, message) => {
    const body = await signed()
    const res = await post({ ...body, request: mutate(body.request as MultiJobRequest) })
    expect(res.status).toBe(400)
    const json = (await res.json()) as { error: { code: string; message: string } }
    expect(json.error.code).toBe('invalid_job')
    expect(json.error.message).toMatch(message)
    expect(await count('compute_jobs')).toBe(0)
    expect(await count('compute_job_parts')).toBe(0)
  })

  it('refuses a query that is not the signed hash, and a signature that recovers to nothing', async () => {
    const body = await signed()
    const mismatch = await post({ ...body, query: 'SELECT COUNT(*) FROM a' })
    expect(mismatch.status).toBe(400)
    expect(await mismatch.json()).toMatchObject({ error: { code: 'query_hash_mismatch' } })
    const unsigned = await post({ ...body, signature: `0x${'00'.repeat(64)}1b` })
    expect(unsigned.status).toBe(401)
    expect(await unsigned.json()).toMatchObject({ error: { code: 'request_signature_invalid' } })
  })

  it('refuses a used nonce → 409 before any chain read; an unreachable chain → 503; nothing written', async () => {
    const { jobId, body } = await insertMultiJob()
    const replay = await post(body)
    expect(replay.status).toBe(409)
    expect(await replay.json()).toMatchObject({ error: { code: 'nonce_used', jobId } })
    const fresh = await post(await signed())
    expect(fresh.status).toBe(503)
    expect(await count('compute_jobs')).toBe(1)
    expect(await count('compute_job_parts')).toBe(2)
  })
})

describe('GET /api/jobs/:id of a job across assets', () => {
  it('lists its parts in request order, and serves each part’s ciphertext route only while it runs', async () => {
    const { jobId } = await insertMultiJob()
    const view = await (await app.request(`/api/jobs/${jobId}`, {}, base)).json()
    expect(view).toMatchObject({
      jobId,
      status: 'queued',
      parts: [
        { licenceId: '1', tokenId: '1', contentHash: hex32(0xa0), table: 'a' },
        { licenceId: '2', tokenId: '2', contentHash: hex32(0xb0), table: 'b' },
      ],
    })
    for (const part of ['2', '9', 'x']) {
      const res = await app.request(`/api/jobs/${jobId}/ciphertext/${part}`, {}, base)
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({ error: { code: 'part_not_found' } })
    }
    await env.DB.prepare("UPDATE compute_jobs SET status = 'failed' WHERE job_id = ?").bind(jobId).run()
    const done = await app.request(`/api/jobs/${jobId}/ciphertext/0`, {}, base)
    expect(done.status).toBe(409)
  })
})

describe('the queue consumer with a job across assets', () => {
  it('retries while the enclave is unreachable; the job stays live and nothing is charged', async () => {
    const { jobId } = await insertMultiJob()
    const acked: string[] = []
    const retried: string[] = []
    const batch = {
      queue: JOBS_QUEUE,
      messages: [
        {
          id: 'm1',
          timestamp: new Date(),
          attempts: 1,
          body: { jobId },
          ack: () => acked.push(jobId),
          retry: () => retried.push(jobId),
        },
      ],
    } as unknown as MessageBatch<JobMessage>
    await handleJobBatch(batch, base)
    expect(retried).toEqual([jobId])
    const row = await env.DB.prepare('SELECT status, last_error, receipt FROM compute_jobs WHERE job_id = ?')
      .bind(jobId)
      .first<Record<string, unknown>>()
    expect(row).toMatchObject({ status: 'running', receipt: null })
    expect(JSON.parse(String(row!.last_error))).toMatchObject({ code: 'enclave_unavailable' })
  })
})

describe('the enclave query check at submission', () => {
  const answer = (status: number, body: unknown) =>
    vi.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(JSON.stringify(body), { status }))

  it('turns the enclave’s policy and query refusals into 422 with its own reason', async () => {
    for (const err of [
      new PolicyViolationError("the owner's policy of table b does not allow joins with other assets"),
      new QueryRejectedError('SELECT * would expose rows'),
    ]) {
      const problem = toProblem(err)
      answer(problem.status, problem.body)
      const thrown = await checkQueryWithEnclave(base, {}, QUERY).catch((e: unknown) => e)
      expect(thrown).toMatchObject({ status: 422, code: problem.body.error.code, message: err.shortMessage })
    }
  })

  it('answers 409 for an asset the enclave never ingested, and passes the ε it would charge through', async () => {
    const problem = toProblem(new UnknownAssetError('no key'))
    answer(problem.status, problem.body)
    expect(await checkQueryWithEnclave(base, {}, QUERY).catch((e: unknown) => e)).toMatchObject({
      status: 409,
      code: 'asset_not_in_enclave',
    })
    answer(200, { epsilonSpentMilli: 500, parts: [{ licenceId: '1', epsilonSpentMilli: 500 }] })
    expect(await checkQueryWithEnclave(base, {}, QUERY)).toEqual({
      epsilonSpentMilli: 500,
      parts: [{ licenceId: '1', epsilonSpentMilli: 500 }],
    })
  })

  it('answers 503 enclave_not_approved, queuing nothing, while the enclave build is not approved', async () => {
    const problem = toProblem(new MeasurementNotApprovedError('this enclave build is not approved in EnclaveRegistry'))
    answer(problem.status, problem.body)
    const thrown = await checkQueryWithEnclave(base, {}, QUERY).catch((e: unknown) => e)
    expect(thrown).toMatchObject({ status: 503, code: 'enclave_not_approved' })
    expect((thrown as Error).message).toMatch(/no job was queued and nothing was charged/)
  })

  it('leaves the decision to run time when the enclave cannot answer now', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    expect(await checkQueryWithEnclave(base, {}, QUERY)).toBeUndefined()
    answer(503, { error: { code: 'chain_unavailable', message: 'down' } })
    expect(await checkQueryWithEnclave(base, {}, QUERY)).toBeUndefined()
    answer(404, { error: { code: 'not_found', message: 'no route POST /jobs/check' } })
    expect(await checkQueryWithEnclave(base, {}, QUERY)).toBeUndefined()
  })
})
