// The publish queue (issue 5): once a direct upload is pinned, the rest of the publication — the
// enclave's ingest, metadata, the relayer's mint — runs in a queue consumer rather than in the request's
// `waitUntil`, which deployed Workers end about 30 s after the response (a 1 GiB ingest takes longer).
// D1 stays the source of truth: the publication holds its checked request until a delivery takes it,
// so a duplicate delivery finds nothing to do; a message lost (wrangler restarts drop undelivered ones)
// leaves a publication whose heartbeat never starts, which the poll fails as `interrupted` (undoing its
// pins) so the owner can publish again (a new request). An enclave or IPFS node that is down or
// failing during ingest or metadata is waited out: the request goes back on the publication and the
// message is retried with backoff, PUBLISH_ATTEMPTS times in all, before the publication fails.
import type { Bindings } from '../env'
import { finishQueued, holdRequest, takeHeldRequest, type PublishRequest } from './publish'

export const PUBLISH_QUEUE = 'stillflow-publish'

/**
 * Deliveries of one publication's message before a transient failure is final. wrangler.toml's
 * `max_retries` for the queue must allow at least this many (it allows one more, so the last attempt
 * is ours to record, not a silent drop).
 */
export const PUBLISH_ATTEMPTS = 5

/** Seconds before attempt `attempts + 1`: 5, 10, 20, 40 — about 75 s in all, inside the abandonment window. */
export const retryDelaySeconds = (attempts: number): number => Math.min(60, 5 * 2 ** (attempts - 1))

export interface PublishMessage {
  publicationId: string
}

/**
 * Hands a pinned publication to the queue. False when this deployment has no publish queue or the
 * message could not be sent: the caller finishes it in `waitUntil` instead.
 */
export async function enqueueFinish(env: Bindings, id: string, req: PublishRequest): Promise<boolean> {
  if (!env.PUBLISH) return false
  await holdRequest(env, id, req)
  try {
    await env.PUBLISH.send({ publicationId: id })
    return true
  } catch (err) {
    console.error('publish queue unavailable; finishing in the request', id, err)
    await takeHeldRequest(env, id)
    return false
  }
}

/**
 * Finishes a pinned publication in the background: the route's fallback when there is no queue. One
 * attempt, so nothing to retry with: a failure is recorded on the publication for the client's poll.
 */
export function finishInBackground(env: Bindings, id: string, req: PublishRequest): Promise<void> {
  return finishQueued(env, id, req, true).then(() => undefined)
}

/** The consumer: one publication at a time (one relayer key sends the mints, one enclave host ingests). */
export async function handlePublishBatch(batch: MessageBatch<PublishMessage>, env: Bindings): Promise<void> {
  for (const msg of batch.messages) {
    const id = (msg.body as Partial<PublishMessage> | null)?.publicationId
    if (typeof id !== 'string') {
      console.error('dropping a malformed publish message', msg.id)
      msg.ack()
      continue
    }
    try {
      const req = await takeHeldRequest(env, id)
      // Taken by another delivery, finished or failed: D1 says so, and there is nothing left to do.
      if (req && (await finishQueued(env, id, req, msg.attempts >= PUBLISH_ATTEMPTS)) === 'retry') {
        console.warn('publish', id, `attempt ${msg.attempts} of ${PUBLISH_ATTEMPTS} failed; retrying`)
        msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) })
        continue
      }
      msg.ack()
    } catch (err) {
      // Only D1 itself failing gets here (a failed publish is recorded, not thrown): try again.
      console.error('publish queue', id, err)
      msg.retry({ delaySeconds: retryDelaySeconds(msg.attempts) })
    }
  }
}
