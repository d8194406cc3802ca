// The compute_jobs table's transitions: every status change goes through here, and only from a live
// status (queued, running) so a late delivery can never reopen a finished job.
import { and, asc, eq, inArray } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { computeJobParts, computeJobs } from '../db/schema'
import type { Bindings } from '../env'

export type JobRow = typeof computeJobs.$inferSelect
export type JobStatus = JobRow['status']
export type JobPartRow = typeof computeJobParts.$inferSelect

export const LIVE: JobStatus[] = ['queued', 'running']

export const nowSeconds = () => Math.floor(Date.now() / 1000)

/** Where a job's sealed result lives in R2 (ciphertext only, R51). */
export const resultKey = (jobId: string) => `jobs/${jobId}/result`

export async function getJob(env: Bindings, jobId: string): Promise<JobRow | undefined> {
  const [row] = await drizzle(env.DB).select().from(computeJobs).where(eq(computeJobs.jobId, jobId)).limit(1)
  return row
}

/** The parts of a job across assets, in request order (none for a single-asset job). */
export async function getParts(env: Bindings, jobId: string): Promise<JobPartRow[]> {
  return drizzle(env.DB)
    .select()
    .from(computeJobParts)
    .where(eq(computeJobParts.jobId, jobId))
    .orderBy(asc(computeJobParts.part))
}

/** Each part's ε charge, from the enclave's group receipt (in part order). */
export async function setPartCharges(env: Bindings, jobId: string, epsilonMilli: number[]): Promise<void> {
  const db = drizzle(env.DB)
  const updates = epsilonMilli.map((e, part) =>
    db
      .update(computeJobParts)
      .set({ epsilonSpentMilli: e })
      .where(and(eq(computeJobParts.jobId, jobId), eq(computeJobParts.part, part))),
  )
  if (updates.length) await db.batch(updates as [(typeof updates)[0], ...typeof updates])
}

/** Updates a live job; returns false when the job had already finished (someone else got there first). */
export async function updateLive(
  env: Bindings,
  jobId: string,
  fields: Partial<Omit<JobRow, 'jobId'>>,
): Promise<boolean> {
  const rows = await drizzle(env.DB)
    .update(computeJobs)
    .set({ ...fields, updatedAt: nowSeconds() })
    .where(and(eq(computeJobs.jobId, jobId), inArray(computeJobs.status, LIVE)))
    .returning({ jobId: computeJobs.jobId })
  return rows.length > 0
}

export interface Reason {
  code: string
  message: string
}

/** Ends a job as failed or expired. Its sealed result, if one was stored, is deleted: it was never paid for. */
export async function finishUnpaid(
  env: Bindings,
  jobId: string,
  status: 'failed' | 'expired',
  reason: Reason,
): Promise<boolean> {
  const done = await updateLive(env, jobId, {
    status,
    reasonCode: reason.code,
    reasonMessage: reason.message.slice(0, 500),
    finishedAt: nowSeconds(),
    resultDeleted: true,
  })
  if (done) await env.BLOBS.delete(resultKey(jobId))
  return done
}

/** The last transient failure of a live job (the queue keeps retrying it until its deadline). */
export function lastReason(row: Pick<JobRow, 'lastError'>): Reason | undefined {
  if (!row.lastError) return undefined
  try {
    const r = JSON.parse(row.lastError) as Partial<Reason>
    return typeof r.code === 'string' && typeof r.message === 'string'
      ? { code: r.code, message: r.message }
      : undefined
  } catch {
    return undefined
  }
}

/**
 * Why a job that the enclave never answered expired: the deadline, and what kept it from running when
 * something did (the buyer's question is "why did my job not run", not only "when did it stop").
 */
export function expiredUnanswered(last: Reason | undefined): Reason {
  return {
    code: 'deadline_passed',
    message: last
      ? `the deadline passed before the job could run (the last attempt: ${last.message}); nothing was charged`
      : 'the deadline passed before the enclave ran the job; nothing was charged',
  }
}

export function retentionSeconds(env: Bindings): number {
  const days = Number(env.RESULT_RETENTION_DAYS ?? 30)
  return Math.round((Number.isFinite(days) && days > 0 ? days : 30) * 86400)
}

export function staleSeconds(env: Bindings): number {
  const s = Number(env.JOB_STALE_SECONDS ?? 120)
  return Number.isFinite(s) && s >= 1 ? Math.floor(s) : 120
}
