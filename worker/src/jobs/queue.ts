// The Queues consumer for compute jobs: one message is one job id. A transient failure is retried with
// back-off; a message that used up its retries arrives on the dead-letter queue, which leaves the job to
// the sweeper: it is retried until it runs (or its receipt lands) or its deadline passes.
import type { Bindings } from '../env'
import { runJob, TransientJobError } from './run'
import { finishUnpaid, getJob, lastReason, updateLive, type Reason } from './store'

export const JOBS_QUEUE = 'stillflow-jobs'
export const JOBS_DLQ = 'stillflow-jobs-dlq'

/** The reason code of an unexpected error in this worker's own code (not a component being away). */
const INTERNAL = 'internal'

export interface JobMessage {
  jobId: string
}

const isJobId = (x: unknown): x is string => typeof x === 'string' && /^0x[0-9a-f]{64}$/.test(x)

export async function handleJobBatch(batch: MessageBatch<JobMessage>, env: Bindings): Promise<void> {
  // One job at a time: each may send a transaction from the one relayer key, and the enclave is one host.
  for (const msg of batch.messages) {
    const jobId = (msg.body as Partial<JobMessage> | null)?.jobId
    if (!isJobId(jobId)) {
      console.error('dropping a malformed job message', msg.id)
      msg.ack()
      continue
    }
    if (batch.queue === JOBS_DLQ) {
      await deadLetter(env, jobId)
      msg.ack()
      continue
    }
    try {
      await runJob(env, jobId)
      msg.ack()
    } catch (err) {
      const reason: Reason =
        err instanceof TransientJobError
          ? err.reason
          : { code: INTERNAL, message: err instanceof Error ? err.message : String(err) }
      if (!(err instanceof TransientJobError)) console.error('job run failed unexpectedly', jobId, err)
      await updateLive(env, jobId, { lastError: JSON.stringify(reason) })
      msg.retry({ delaySeconds: Math.min(30, 2 ** msg.attempts) })
    }
  }
}

/**
 * A job whose message used up the queue's retries. The buyer's deadline, not the queue's retry count, says
 * how long a job may wait: one the enclave never answered stays live, and the sweeper re-enqueues it every
 * JOB_STALE_SECONDS until it runs or expires at its deadline (costing nothing). Only a failure of this
 * worker's own code ends it at once, rather than repeating the same error until the deadline.
 */
export async function deadLetter(env: Bindings, jobId: string): Promise<void> {
  const row = await getJob(env, jobId)
  if (!row || (row.status !== 'queued' && row.status !== 'running')) return
  if (row.receipt) return // answered: the sweeper keeps retrying the recording until the deadline
  const last = lastReason(row)
  if (last?.code !== INTERNAL) return
  await finishUnpaid(env, jobId, 'failed', {
    code: INTERNAL,
    message: `gave up after ${row.attempts} attempts: ${last.message}; nothing was charged`,
  })
}
