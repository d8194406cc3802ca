// A node:http request body as a WHATWG stream for the Hono app, with one difference from
// Readable.toWeb: a body the app stops reading (a refusal before the end of a large ingest) is drained,
// not torn down. Why: destroying the socket with request bytes unread makes Linux answer with a reset,
// and a client still writing its body never reads the refusal. workerd, the marketplace worker's
// runtime, then reports "Network connection lost", which the publish queue treats as a passing outage
// and retries for minutes before failing the publication as `enclave_unavailable` instead of the 422
// that names the bad row. A client that stops sending is still cut off, after DRAIN_IDLE_MS without a
// byte or DRAIN_MAX_MS in all.
import type { IncomingMessage } from 'node:http'

export const DRAIN_IDLE_MS = 10_000
export const DRAIN_MAX_MS = 120_000
/** Bytes queued ahead of the app before the socket is paused (backpressure, as Readable.toWeb). */
const QUEUE_BYTES = 1 << 20

export interface RequestBody {
  stream: ReadableStream<Uint8Array>
  /** Reads what is left of the body and discards it (once the answer is sent or the app cancelled). */
  drain(): void
}

export function requestBody(req: IncomingMessage): RequestBody {
  let draining = false
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const drain = () => {
    if (draining) return
    draining = true
    if (req.complete || req.destroyed) return
    const give = setTimeout(() => req.destroy(), DRAIN_MAX_MS)
    const idle = setTimeout(() => req.destroy(), DRAIN_IDLE_MS)
    const done = () => {
      clearTimeout(give)
      clearTimeout(idle)
    }
    req.on('data', () => idle.refresh())
    req.once('end', done)
    req.once('close', done)
    req.resume()
  }
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c
        req.on('data', (chunk: Buffer) => {
          if (draining) return
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength))
          if ((controller.desiredSize ?? 1) <= 0) req.pause()
        })
        req.once('end', () => {
          if (!draining) controller.close()
        })
        req.once('error', (err) => {
          if (!draining) controller.error(err)
        })
        req.once('aborted', () => {
          if (!draining) controller.error(new Error('the client aborted the request'))
        })
      },
      pull() {
        req.resume()
      },
      cancel() {
        drain()
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: QUEUE_BYTES }),
  )
  return { stream, drain }
}
