// /api/jobs — compute jobs (DESIGN §3 "Compute job"; R51–R54, R58). Submission is authenticated by the
// buyer's EIP-712 JobRequest signature itself; a job id is that request's digest, unguessable and public
// like the receipt it ends in. Nothing here ever holds result plaintext: results are sealed to the buyer.
import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { readJson } from '../middleware/body'
import { jobIndexStatus } from '../indexer'
import { catStream } from '../services/ipfs'
import { getJob, getParts, lastReason, LIVE, resultKey, type JobPartRow, type JobRow } from '../jobs/store'
import { submitJob } from '../jobs/submit'
import { bytesToHex } from '../../../tee-sim/src/bytes'
import type { SignedReceipt } from '../../../tee-sim/src/receipt'

const JOB_ID = /^0x[0-9a-fA-F]{64}$/

async function jobOr404(env: AppEnv['Bindings'], id: string): Promise<JobRow> {
  if (!JOB_ID.test(id)) throw new ApiError(400, 'invalid_job_id', 'a job id is 0x followed by 64 hex digits')
  const row = await getJob(env, id.toLowerCase())
  if (!row) throw new ApiError(404, 'job_not_found', `no job ${id}`)
  return row
}

/**
 * The public view of a job: status, reason on failure, and the receipt facts once recorded. A job across
 * assets (R67) lists its parts, each with the ε its licence was charged once the receipt is recorded.
 */
export function jobView(row: JobRow, parts: JobPartRow[] = []) {
  return {
    jobId: row.jobId,
    status: row.status,
    ...(row.reasonCode ? { reason: { code: row.reasonCode, message: row.reasonMessage ?? '' } } : {}),
    chainId: row.chainId,
    buyer: row.buyer,
    licenceId: row.licenceId,
    tokenId: row.tokenId,
    contentHash: row.contentHash,
    queryHash: row.queryHash,
    ...(parts.length
      ? {
          parts: parts.map((p) => ({
            licenceId: p.licenceId,
            tokenId: p.tokenId,
            contentHash: p.contentHash,
            table: p.tableName,
            ...(row.status === 'succeeded' ? { epsilonSpentMilli: p.epsilonSpentMilli } : {}),
          })),
        }
      : {}),
    deadline: row.deadline,
    attempts: row.attempts,
    // Why a live job has not finished yet (a component away, a recording pending): it is retried until
    // its deadline, so this is news, not a failure.
    ...(LIVE.includes(row.status) && lastReason(row) ? { retrying: lastReason(row) } : {}),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    finishedAt: row.finishedAt,
    ...(row.status === 'succeeded'
      ? {
          receipt: {
            txHash: row.receiptTx,
            blockNumber: row.receiptBlock,
            resultHash: row.resultHash,
            epsilonSpentMilli: row.epsilonSpentMilli,
            measurement: row.measurement,
          },
          resultAvailable: !row.resultDeleted,
          resultExpiresAt: row.resultExpiresAt,
        }
      : {}),
  }
}

function requireSucceeded(row: JobRow): SignedReceipt {
  if (row.status !== 'succeeded' || !row.receipt) {
    throw new ApiError(409, 'job_not_succeeded', `job ${row.jobId} is ${row.status}`, {
      status: row.status,
      ...(row.reasonCode ? { reason: { code: row.reasonCode, message: row.reasonMessage ?? '' } } : {}),
    })
  }
  return JSON.parse(row.receipt) as SignedReceipt
}

/**
 * A job request's body: the signed request, its signature and the query (at most MAX_QUERY_CHARS, which
 * JSON escaping can inflate up to 6×); anything larger is refused before it is parsed.
 */
const MAX_JOB_BYTES = 128 * 1024

export const jobs = new Hono<AppEnv>()
  .post('/', async (c) => {
    const body = await readJson(c.req, MAX_JOB_BYTES, {
      code: 'invalid_json',
      message: 'the body must be JSON { request, signature, query }',
    })
    const accepted = await submitJob(c.env, body, new URL(c.req.url).origin)
    c.header('location', `/api/jobs/${accepted.jobId}`)
    return c.json(accepted, 202)
  })
  .get('/:id', async (c) => {
    c.header('cache-control', 'no-store')
    const row = await jobOr404(c.env, c.req.param('id'))
    // `index`: pending until the receipt's event is mirrored in D1, failed if none will be.
    const [parts, index] = await Promise.all([getParts(c.env, row.jobId), jobIndexStatus(c.env, row)])
    return c.json({ ...jobView(row, parts), index })
  })
  // The sealed result (HPKE to the buyer's result key) with its signed receipt. JSON by default; the raw
  // bytes with `accept: application/octet-stream`.
  .get('/:id/result', async (c) => {
    const row = await jobOr404(c.env, c.req.param('id'))
    const signed = requireSucceeded(row)
    const object = row.resultDeleted ? null : await c.env.BLOBS.get(resultKey(row.jobId))
    if (!object)
      throw new ApiError(
        410,
        'result_deleted',
        `the result of job ${row.jobId} is past its retention and was deleted`,
        {
          resultHash: row.resultHash,
        },
      )
    if (/application\/octet-stream/.test(c.req.header('accept') ?? '')) {
      return new Response(object.body, {
        headers: {
          'content-type': 'application/octet-stream',
          'x-stillflow-result-hash': row.resultHash ?? '',
        },
      })
    }
    const sealed = new Uint8Array(await object.arrayBuffer())
    return c.json({
      jobId: row.jobId,
      sealedResult: bytesToHex(sealed),
      resultHash: row.resultHash,
      receipt: signed,
      txHash: row.receiptTx,
    })
  })
  .get('/:id/receipt', async (c) => {
    const row = await jobOr404(c.env, c.req.param('id'))
    const signed = requireSucceeded(row)
    return c.json({ jobId: row.jobId, ...signed, txHash: row.receiptTx, blockNumber: row.receiptBlock })
  })
  // The asset's ciphertext for the enclave host of a job in flight, when no IPFS gateway is configured.
  // Ciphertext is public on IPFS anyway; the enclave checks its integrity (AEAD + content hash) itself.
  .get('/:id/ciphertext', async (c) => {
    const row = await runningJob(c.env, c.req.param('id'))
    return ciphertextResponse(c.env, row.ciphertextCid)
  })
  // Part `part` of a job across assets (R67), for the same purpose.
  .get('/:id/ciphertext/:part', async (c) => {
    const row = await runningJob(c.env, c.req.param('id'))
    const index = c.req.param('part')
    const part = /^[0-9]{1,2}$/.test(index)
      ? (await getParts(c.env, row.jobId)).find((p) => p.part === Number(index))
      : undefined
    if (!part) throw new ApiError(404, 'part_not_found', `job ${row.jobId} has no part ${index}`)
    return ciphertextResponse(c.env, part.ciphertextCid)
  })

async function runningJob(env: AppEnv['Bindings'], id: string): Promise<JobRow> {
  const row = await jobOr404(env, id)
  if (row.status !== 'queued' && row.status !== 'running')
    throw new ApiError(409, 'job_not_running', `job ${row.jobId} is ${row.status}`)
  return row
}

async function ciphertextResponse(env: AppEnv['Bindings'], cid: string): Promise<Response> {
  return new Response(await catStream(env, cid), { headers: { 'content-type': 'application/octet-stream' } })
}
