// Accepting a compute job (DESIGN §3 "Compute job" step 1; R58): the buyer's EIP-712 JobRequest is checked
// here — shape, query hash, deadline, signature, nonce, and the licence, quota, ε and asset on chain — so
// a job that the enclave would refuse for these reasons is refused at once with a precise 4xx. The enclave
// checks all of it again itself; the worker is not trusted with rights.
import { drizzle } from 'drizzle-orm/d1'
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm'
import { SQLiteSyncDialect } from 'drizzle-orm/sqlite-core'
import { z } from 'zod'
import { dataAssetNftAbi, dataMarketAbi } from '../../../contracts/index'
// tee-sim's client-side protocol modules, imported one by one: its index also re-exports enclave types,
// which would pull enclave code (Node-only) into the worker's type-check.
import { queryHashOf } from '../../../tee-sim/src/canonical-json'
import { EnclaveError } from '../../../tee-sim/src/errors'
import {
  checkJobRequest,
  checkMultiJobRequest,
  isMultiJobRequest,
  jobIdOf,
  jobRequestSigner,
  multiJobIdOf,
  multiJobRequestSigner,
  type JobRequest,
  type MultiJobRequest,
} from '../../../tee-sim/src/job-request'
import { computeJobParts, computeJobs, publications } from '../db/schema'
import type { Bindings } from '../env'
import { ApiError } from '../errors'
import { readContracts } from '../services/chain'
import { addressBook } from '../services/config'
import { limitJobs } from '../middleware/rate-limit'
import { checkQueryWithEnclave } from './check'
import { LIVE, nowSeconds } from './store'

const dialect = new SQLiteSyncDialect()

/** A request must leave the job this long to be queued, run and recorded. */
export const MIN_DEADLINE_SLACK_S = 10
/** Deadlines further out would keep a stuck job alive for too long. */
export const MAX_DEADLINE_AHEAD_S = 7 * 86400
export const MAX_QUERY_CHARS = 16 * 1024

const bodySchema = z.strictObject({
  request: z.unknown(),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be 0x and 65 bytes of hex'),
  query: z.string().min(1).max(MAX_QUERY_CHARS),
})

export interface AcceptedJob {
  jobId: string
  status: 'queued'
  licenceId: string
  tokenId: string
  deadline: number
}

type ParsedBody = z.infer<typeof bodySchema>

/** Checks a job request, stores it as queued and enqueues it. Throws ApiError with the precise refusal. */
export async function submitJob(env: Bindings, body: unknown, origin: string): Promise<AcceptedJob> {
  const parsed = bodySchema.safeParse(body)
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')
    throw new ApiError(400, 'invalid_job', detail)
  }
  if (isMultiJobRequest(parsed.data.request)) return submitMultiJob(env, parsed.data, origin)
  let request: JobRequest
  try {
    request = checkJobRequest(parsed.data.request)
  } catch (err) {
    throw new ApiError(400, 'invalid_job', err instanceof EnclaveError ? err.shortMessage : 'request is malformed')
  }
  const { signature, query } = parsed.data
  const now = checkTiming(request, query)
  const book = addressBook(env)
  const market = book.contracts.DataMarket
  if (!market) throw new Error('ADDRESS_BOOK has no DataMarket')
  const buyer = recoverBuyer(() => jobRequestSigner(request, signature, book.chainId, market))
  await limitJobs(env, buyer)
  const jobId = jobIdOf(request, book.chainId, market)
  await refuseReplay(env, buyer, request.nonce)

  const { licenceId, tokenId, jobsLeft, epsilonLeftMilli } = await checkRights(env, request, buyer, now)
  const cid = await hostedCiphertext(env, request.contentHash, tokenId)
  // R58 and "no budget spent without a result": a query the owner's policy refuses is refused now (422),
  // and one that costs more ε than the licence has left (429).
  const price = await checkQueryWithEnclave(env, request, query)
  if (price) refuseOverspend(licenceId, price.epsilonSpentMilli, epsilonLeftMilli)

  await insertJob(
    env,
    queuedJob(
      request,
      { jobId, chainId: book.chainId, buyer, query, signature, origin, now },
      { licenceId, tokenId, contentHash: request.contentHash, cid },
    ),
    [{ licenceId, jobsLeft }],
  )
  return { jobId, status: 'queued', licenceId, tokenId, deadline: request.deadline }
}

export interface AcceptedMultiJob extends AcceptedJob {
  parts: { licenceId: string; tokenId: string; table: string }[]
}

/**
 * A job across assets of several owners (R67): every part's licence and asset is checked as a single
 * job's is, the enclave checks the query against every owner's policy, and the job and its parts are
 * stored in one batch (all or nothing).
 */
async function submitMultiJob(env: Bindings, body: ParsedBody, origin: string): Promise<AcceptedMultiJob> {
  let request: MultiJobRequest
  try {
    request = checkMultiJobRequest(body.request)
  } catch (err) {
    throw new ApiError(400, 'invalid_job', err instanceof EnclaveError ? err.shortMessage : 'request is malformed')
  }
  const { signature, query } = body
  const now = checkTiming(request, query)
  const book = addressBook(env)
  const market = book.contracts.DataMarket
  if (!market) throw new Error('ADDRESS_BOOK has no DataMarket')
  const buyer = recoverBuyer(() => multiJobRequestSigner(request, signature, book.chainId, market))
  await limitJobs(env, buyer)
  const jobId = multiJobIdOf(request, book.chainId, market)
  await refuseReplay(env, buyer, request.nonce)

  const parts = []
  for (const p of request.parts) {
    const rights = await checkRights(env, p, buyer, now)
    parts.push({
      ...rights,
      table: p.table,
      contentHash: p.contentHash.toLowerCase(),
      cid: await hostedCiphertext(env, p.contentHash, rights.tokenId),
    })
  }
  const price = await checkQueryWithEnclave(env, request, query)
  for (const [i, p] of parts.entries()) {
    const charge = price?.parts?.[i]
    if (charge) refuseOverspend(p.licenceId, charge.epsilonSpentMilli, p.epsilonLeftMilli)
  }

  const first = parts[0]
  await insertJob(
    env,
    // The job's row names its first part; every part, the first too, is a row of compute_job_parts.
    queuedJob(request, { jobId, chainId: book.chainId, buyer, query, signature, origin, now }, first),
    parts.map((p) => ({ licenceId: p.licenceId, jobsLeft: p.jobsLeft })),
    parts.map((p, part) => ({
      jobId,
      part,
      chainId: book.chainId,
      licenceId: p.licenceId,
      tokenId: p.tokenId,
      contentHash: p.contentHash,
      tableName: p.table,
      ciphertextCid: p.cid,
    })),
  )
  return {
    jobId,
    status: 'queued',
    licenceId: first.licenceId,
    tokenId: first.tokenId,
    deadline: request.deadline,
    parts: parts.map((p) => ({ licenceId: p.licenceId, tokenId: p.tokenId, table: p.table })),
  }
}

/** Query hash and deadline window; returns now (unix seconds). */
function checkTiming(request: { queryHash: string; deadline: number }, query: string): number {
  if (queryHashOf(query) !== request.queryHash.toLowerCase())
    throw new ApiError(400, 'query_hash_mismatch', 'request.queryHash is not keccak256 of the query text')
  const now = nowSeconds()
  if (request.deadline < now + MIN_DEADLINE_SLACK_S)
    throw new ApiError(
      400,
      'deadline_passed',
      `the request's deadline must be at least ${MIN_DEADLINE_SLACK_S} s ahead`,
      {
        deadline: request.deadline,
        now,
      },
    )
  if (request.deadline > now + MAX_DEADLINE_AHEAD_S)
    throw new ApiError(400, 'deadline_too_far', `the request's deadline may be at most ${MAX_DEADLINE_AHEAD_S} s ahead`)
  return now
}

/** 429 when the enclave's price of the query exceeds what the licence has left on chain. */
function refuseOverspend(licenceId: string, epsilonMilli: number, epsilonLeftMilli: number): void {
  if (epsilonMilli > epsilonLeftMilli)
    throw new ApiError(
      429,
      'budget_exhausted',
      `the query costs ε ${epsilonMilli / 1000}; licence ${licenceId} has ${epsilonLeftMilli / 1000} left`,
      { epsilonMilli, epsilonLeftMilli },
    )
}

function recoverBuyer(recover: () => string): string {
  try {
    return recover().toLowerCase()
  } catch {
    throw new ApiError(401, 'request_signature_invalid', 'the job request signature does not recover to an address')
  }
}

async function refuseReplay(env: Bindings, buyer: string, nonce: string): Promise<void> {
  const [replay] = await drizzle(env.DB)
    .select({ jobId: computeJobs.jobId })
    .from(computeJobs)
    .where(
      and(
        eq(computeJobs.chainId, addressBook(env).chainId),
        eq(computeJobs.buyer, buyer),
        eq(computeJobs.nonce, nonce.toLowerCase()),
      ),
    )
    .limit(1)
  if (replay)
    throw new ApiError(409, 'nonce_used', 'this nonce was already used by one of your job requests', {
      jobId: replay.jobId,
    })
}

/** The ciphertext CID of an asset published through this marketplace. */
async function hostedCiphertext(env: Bindings, contentHash: string, tokenId: string): Promise<string> {
  const [hosted] = await drizzle(env.DB)
    .select({ cid: publications.ciphertextCid })
    .from(publications)
    .where(and(eq(publications.contentHash, contentHash.toLowerCase()), eq(publications.status, 'minted')))
    .limit(1)
  if (!hosted?.cid)
    throw new ApiError(409, 'asset_not_hosted', `asset ${tokenId} was not published through this marketplace`)
  return hosted.cid
}

/** The compute_jobs row of a request accepted now (a multi-asset job's row names its first part). */
function queuedJob(
  request: { queryHash: string; resultPublicKey: string; nonce: string; deadline: number },
  job: { jobId: string; chainId: number; buyer: string; query: string; signature: string; origin: string; now: number },
  asset: { licenceId: string; tokenId: string; contentHash: string; cid: string },
): typeof computeJobs.$inferInsert {
  return {
    jobId: job.jobId,
    chainId: job.chainId,
    buyer: job.buyer,
    licenceId: asset.licenceId,
    tokenId: asset.tokenId,
    contentHash: asset.contentHash.toLowerCase(),
    queryHash: request.queryHash.toLowerCase(),
    query: job.query,
    resultPublicKey: request.resultPublicKey.toLowerCase(),
    nonce: request.nonce.toLowerCase(),
    deadline: request.deadline,
    signature: job.signature,
    ciphertextCid: asset.cid,
    origin: job.origin,
    status: 'queued',
    createdAt: job.now,
    updatedAt: job.now,
  }
}

/**
 * Stores the job (and its parts) in one batch, then enqueues it. The batch is one transaction, and its last
 * statement takes the job out again if it would put more jobs in flight on a licence than the licence has
 * left: two submissions racing past checkRights cannot both queue the last job.
 */
async function insertJob(
  env: Bindings,
  row: typeof computeJobs.$inferInsert,
  quotas: { licenceId: string; jobsLeft: number }[],
  parts: (typeof computeJobParts.$inferInsert)[] = [],
): Promise<void> {
  const db = drizzle(env.DB)
  const over = sql.join(
    quotas.map((q) => sql`(${inFlightSql(row.chainId, q.licenceId)}) > ${q.jobsLeft}`),
    sql` OR `,
  )
  // Raw statements in one D1 batch (drizzle's own batch takes no raw DELETE … RETURNING). The guard runs
  // right after the job's insert and only if that inserted it (`changes()`): a replayed request must never
  // take out the job it replays. Parts of a job the guard took out are removed with it.
  const statement = (q: { sql: string; params: unknown[] }) => env.DB.prepare(q.sql).bind(...q.params)
  const raw = (q: SQL) => statement(dialect.sqlToQuery(q))
  const results = await env.DB.batch([
    statement(db.insert(computeJobs).values(row).onConflictDoNothing().returning({ jobId: computeJobs.jobId }).toSQL()),
    raw(sql`DELETE FROM compute_jobs WHERE job_id = ${row.jobId} AND changes() = 1 AND (${over}) RETURNING job_id`),
    ...(parts.length ? [statement(db.insert(computeJobParts).values(parts).onConflictDoNothing().toSQL())] : []),
    raw(
      sql`DELETE FROM compute_job_parts WHERE job_id = ${row.jobId}
          AND NOT EXISTS (SELECT 1 FROM compute_jobs WHERE job_id = ${row.jobId})`,
    ),
  ])
  const inserted = results[0].results
  const taken = results[1].results
  // Two identical submissions racing: the job id is the request's digest, so the loser is a replay.
  if (!inserted.length)
    throw new ApiError(409, 'nonce_used', 'this job request was already submitted', { jobId: row.jobId })
  if (taken.length) {
    const full = await firstFullLicence(env, row.chainId, quotas)
    throw quotaExhausted(full.licenceId, full.jobsLeft, full.inFlight)
  }
  try {
    await env.JOBS.send({ jobId: row.jobId })
  } catch (err) {
    // The row is the source of truth: the sweeper enqueues queued jobs that saw no progress.
    console.error('job enqueue failed; the sweeper will retry', row.jobId, err)
  }
}

/** Live jobs that will charge `licenceId`, as SQL: single jobs on it and jobs across assets with a part on it. */
function inFlightSql(chainId: number, licenceId: string) {
  return sql`SELECT count(*) FROM compute_jobs j WHERE j.chain_id = ${chainId} AND j.status IN ('queued', 'running')
    AND (j.licence_id = ${licenceId} OR EXISTS (SELECT 1 FROM compute_job_parts p
      WHERE p.job_id = j.job_id AND p.chain_id = ${chainId} AND p.licence_id = ${licenceId}))`
}

/** The licence whose quota a refused job would have overrun (for the refusal's message). */
async function firstFullLicence(env: Bindings, chainId: number, quotas: { licenceId: string; jobsLeft: number }[]) {
  for (const q of quotas) {
    const inFlight = await jobsInFlight(env, q.licenceId)
    if (inFlight >= q.jobsLeft) return { ...q, inFlight }
  }
  return { ...quotas[0], inFlight: await jobsInFlight(env, quotas[0].licenceId) }
}

/**
 * The licence and asset as the chain sees them now. Quota counts the caller's jobs still in flight, so a
 * licence with one job left cannot queue two; ε per query is the enclave's to price, so here only an
 * exhausted budget is refused.
 */
async function checkRights(
  env: Bindings,
  request: { licenceId: string; contentHash: string },
  buyer: string,
  now: number,
) {
  const [[licenceCount], [tokenOfContent]] = await readContracts(env, [
    { contract: 'DataMarket', abi: dataMarketAbi, fn: 'licenceCount' },
    { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'tokenIdOfContent', args: [request.contentHash] },
  ])
  const licenceId = BigInt(request.licenceId)
  if (licenceId > (licenceCount as bigint))
    throw new ApiError(404, 'licence_not_found', `licence ${licenceId} does not exist`)
  if ((tokenOfContent as bigint) === 0n)
    throw new ApiError(404, 'asset_not_found', 'no minted asset has this content hash')
  const tokenId = tokenOfContent as bigint
  const [[licence], info] = await readContracts(env, [
    { contract: 'DataMarket', abi: dataMarketAbi, fn: 'licence', args: [licenceId] },
    { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'assetInfo', args: [tokenId] },
  ])
  const l = licence as unknown as {
    buyer: string
    jobsLeft: bigint
    epsilonLeftMilli: bigint
    tokenId: bigint
    expiresAt: bigint
  }
  if (l.buyer.toLowerCase() !== buyer)
    throw new ApiError(403, 'not_licence_holder', `the request is not signed by the holder of licence ${licenceId}`, {
      signer: buyer,
    })
  if (l.tokenId !== tokenId)
    throw new ApiError(403, 'licence_asset_mismatch', `licence ${licenceId} is for asset ${l.tokenId}, not ${tokenId}`)
  if (l.expiresAt <= BigInt(now))
    throw new ApiError(403, 'licence_expired', `licence ${licenceId} expired`, { expiresAt: Number(l.expiresAt) })
  if (info.revoked as boolean) throw new ApiError(403, 'asset_revoked', `asset ${tokenId} was revoked by its owner`)
  if (info.frozen as boolean) throw new ApiError(403, 'asset_frozen', `asset ${tokenId} is frozen by a supervisor`)
  const jobsLeft = Number(l.jobsLeft)
  if (jobsLeft === 0) throw quotaExhausted(licenceId.toString(), 0, 0)
  const inFlight = await jobsInFlight(env, licenceId.toString())
  if (jobsLeft - inFlight <= 0) throw quotaExhausted(licenceId.toString(), jobsLeft, inFlight)
  // No ε left is refused only once the enclave has priced the query (refuseOverspend): a query that costs
  // nothing (an aggregates-only asset) still runs on a licence without ε.
  return {
    licenceId: licenceId.toString(),
    tokenId: tokenId.toString(),
    jobsLeft,
    epsilonLeftMilli: Number(l.epsilonLeftMilli),
  }
}

/** 429: the licence's job quota, less the jobs already queued against it, is used up. */
function quotaExhausted(licenceId: string, jobsLeft: number, inFlight: number): ApiError {
  const message =
    inFlight === 0
      ? `licence ${licenceId} has no jobs left`
      : `licence ${licenceId} has ${jobsLeft} job${jobsLeft === 1 ? '' : 's'} left on chain, and ${inFlight} of your jobs ` +
        `${inFlight === 1 ? 'is' : 'are'} already queued or running against it; submit again when one has finished`
  return new ApiError(429, 'quota_exhausted', message, { jobsLeft, inFlight })
}

/** Live jobs that will charge `licenceId`: single jobs on it, and jobs across assets with a part on it. */
async function jobsInFlight(env: Bindings, licenceId: string): Promise<number> {
  const db = drizzle(env.DB)
  const chainId = addressBook(env).chainId
  const live = and(eq(computeJobs.chainId, chainId), inArray(computeJobs.status, LIVE))
  const [singles, parts] = await db.batch([
    db
      .select({ jobId: computeJobs.jobId })
      .from(computeJobs)
      .where(and(live, eq(computeJobs.licenceId, licenceId))),
    db
      .select({ jobId: computeJobParts.jobId })
      .from(computeJobParts)
      .innerJoin(computeJobs, eq(computeJobs.jobId, computeJobParts.jobId))
      .where(and(live, eq(computeJobParts.chainId, chainId), eq(computeJobParts.licenceId, licenceId))),
  ])
  // A job across assets whose first part is this licence appears in both lists.
  return new Set([...singles, ...parts].map((r) => r.jobId)).size
}
