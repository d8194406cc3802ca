// The cron sweeper for compute jobs. D1 is the source of truth and local queues forget undelivered
// messages on restart, so every run: expires live jobs past their deadline that the enclave never
// answered (they cost nothing), re-enqueues live jobs that made no progress for JOB_STALE_SECONDS (the
// consumer is idempotent by job id), and deletes sealed results past their retention.
import { and, eq, inArray, isNull, lt } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { computeJobs } from '../db/schema'
import type { Bindings } from '../env'
import { expiredUnanswered, lastReason, LIVE, nowSeconds, resultKey, staleSeconds } from './store'

/** At most this many jobs per category per run, so one run stays short. */
const BATCH = 100

export interface SweepReport {
  expired: number
  requeued: number
  resultsDeleted: number
}

export async function sweepJobs(env: Bindings, now = nowSeconds()): Promise<SweepReport> {
  const db = drizzle(env.DB)
  const overdue = await db
    .select({ jobId: computeJobs.jobId, lastError: computeJobs.lastError })
    .from(computeJobs)
    .where(and(inArray(computeJobs.status, LIVE), lt(computeJobs.deadline, now), isNull(computeJobs.receipt)))
    .limit(BATCH)
  // Each with its own reason (what kept it from running), and only while still live and unanswered: an
  // answer stored meanwhile may be on its way to the chain, and the consumer settles that one.
  const expired: string[] = []
  for (const j of overdue) {
    const reason = expiredUnanswered(lastReason(j))
    const [done] = await db
      .update(computeJobs)
      .set({
        status: 'expired',
        reasonCode: reason.code,
        reasonMessage: reason.message.slice(0, 500),
        finishedAt: now,
        updatedAt: now,
        resultDeleted: true,
      })
      .where(and(eq(computeJobs.jobId, j.jobId), inArray(computeJobs.status, LIVE), isNull(computeJobs.receipt)))
      .returning({ jobId: computeJobs.jobId })
    if (done) expired.push(done.jobId)
  }
  if (expired.length) await env.BLOBS.delete(expired.map(resultKey))

  const stale = await db
    .select({ jobId: computeJobs.jobId })
    .from(computeJobs)
    .where(and(inArray(computeJobs.status, LIVE), lt(computeJobs.updatedAt, now - staleSeconds(env))))
    .limit(BATCH)
  if (stale.length) {
    await env.JOBS.sendBatch(stale.map((j) => ({ body: { jobId: j.jobId } })))
    await db
      .update(computeJobs)
      .set({ updatedAt: now })
      .where(
        inArray(
          computeJobs.jobId,
          stale.map((j) => j.jobId),
        ),
      )
  }

  const old = await db
    .select({ jobId: computeJobs.jobId })
    .from(computeJobs)
    .where(and(eq(computeJobs.resultDeleted, false), lt(computeJobs.resultExpiresAt, now)))
    .limit(BATCH)
  if (old.length) {
    await env.BLOBS.delete(old.map((j) => resultKey(j.jobId)))
    await db
      .update(computeJobs)
      .set({ resultDeleted: true })
      .where(
        inArray(
          computeJobs.jobId,
          old.map((j) => j.jobId),
        ),
      )
  }
  return { expired: expired.length, requeued: stale.length, resultsDeleted: old.length }
}
