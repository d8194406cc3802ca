// The Queues consumer for compute jobs: one message is one job id. A transient failure is retried with
// back-off; a message that used up its retries arrives on the dead-letter queue, which fails the job with
// its last reason if the enclave never answered (it costs nothing), and otherwise leaves it to the sweeper
// so an answered job's receipt is retried until it lands or the deadline passes.
import type { Bindings } from '../env'
import { runJob, TransientJobError } from './run'
import { finishUnpaid, getJob, updateLive, type Reason } from './store'

export const JOBS_QUEUE = 'stillflow-jobs'
export const JOBS_DLQ = 'stillflow-jobs-dlq'

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
          : { code: 'internal', message: err instanceof Error ? err.message : String(err) }
      if (!(err instanceof TransientJobError)) console.error('job run failed unexpectedly', jobId, err)
      await updateLive(env, jobId, { lastError: JSON.stringify(reason) })
      msg.retry({ delaySeconds: Math.min(30, 2 ** msg.attempts) })
    }
  }
}

/** A job whose message kept failing: fail it with the last reason unless the enclave already answered. */
export async function deadLetter(env: Bindings, jobId: string): Promise<void> {
  const row = await getJob(env, jobId)
  if (!row || (row.status !== 'queued' && row.status !== 'running')) return
  if (row.receipt) return // answered: the sweeper keeps retrying the recording until the deadline
  const last = row.lastError ? (JSON.parse(row.lastError) as Reason) : undefined
  await finishUnpaid(env, jobId, 'failed', {
    code: last?.code ?? 'enclave_unavailable',
    message: `gave up after ${row.attempts} attempts: ${last?.message ?? 'the enclave did not answer'}; nothing was charged`,
  })
}
