// The ciphertext's way to IPFS's uploader (issue 5): the ticketed PUT, the finishing request that has the
// worker pin what was stored, the poll until minted, and the hand-off that lets one encryption pass feed
// both the upload and the client's own CID computation.
import type { PublishOptions, PublishProgress, PublishResult } from './publish'
import { reaching, readAnswer } from './api'
import { ApiRequestError } from './errors'

export interface UploadTarget {
  /** PUT the ciphertext here with the ticket in `x-stillflow-ticket`. */
  url: string
  ticket: string
  size: number
  expiresAt: string
}

interface PublicationView {
  id: string
  status: 'pending' | 'ingested' | 'minted' | 'failed'
  step: string
  error?: { code: string; message: string; status?: number }
  /** Still pending after a failure that may pass (the enclave or IPFS unreachable): what is retried. */
  retrying?: { code: string; message: string }
  result?: PublishResult
}

/** A finished publish answers 200 with its outcome instead of 202 (a replay of a minted request). */
export const isOutcome = (x: unknown): x is PublishResult => (x as PublishResult).status === 'minted'

/**
 * PUTs the ciphertext to the uploader; returns the CID and size it stored. Sent with `redirect: 'error'`:
 * with the default 'follow', Node's fetch tees a streamed body to be able to replay it and buffers the
 * unread branch — the whole file (nodejs/undici#4058; measured: 1.1 GiB RSS uploading 1 GiB).
 */
export async function putCiphertext(
  opts: Pick<PublishOptions, 'fetch'>,
  target: Pick<UploadTarget, 'url' | 'ticket'>,
  size: number,
  body: ReadableStream<Uint8Array>,
): Promise<{ cid: string; size: number }> {
  const res = await reaching('the IPFS uploader', target.url, () =>
    (opts.fetch ?? fetch)(target.url, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(size),
        'x-stillflow-ticket': target.ticket,
      },
      body,
      redirect: 'error',
      // Node's fetch (undici) streams request bodies only in half-duplex mode.
      ...({ duplex: 'half' } as object),
    }),
  )
  const stored = await readAnswer<{ cid?: unknown; size?: unknown } | undefined>(res)
  if (typeof stored?.cid !== 'string' || stored.size !== size) {
    throw new ApiRequestError(
      502,
      'bad_upload_answer',
      `the uploader answered ${JSON.stringify(stored)?.slice(0, 200)}, not the ${size} bytes sent`,
    )
  }
  return { cid: stored.cid, size }
}

/**
 * After the PUT: the signed manifest again with `x-stillflow-upload: uploaded` (the worker pins the CID the
 * owner signed), then the publication is polled until it is minted or failed.
 */
export async function finishUploaded(
  opts: Pick<PublishOptions, 'api' | 'pollIntervalMs'>,
  headers: Record<string, string>,
  onIngesting: (extra: Pick<PublishProgress, 'retrying' | 'publication'>) => void,
): Promise<PublishResult> {
  const committed = await opts.api.request<{ id: string } | PublishResult>('/assets', {
    method: 'POST',
    headers: { ...headers, 'x-stillflow-upload': 'uploaded' },
  })
  if (isOutcome(committed)) return committed
  const publication = committed.id
  onIngesting({ publication })
  const interval = opts.pollIntervalMs ?? 1000
  let retrying: string | undefined
  for (;;) {
    const p = await opts.api.request<PublicationView>(`/publications/${committed.id}`)
    if (p.status === 'minted' && p.result) return p.result
    if (p.retrying && p.retrying.message !== retrying) onIngesting({ publication, retrying: p.retrying })
    retrying = p.retrying?.message
    if (p.status === 'failed') {
      const e = p.error ?? { code: 'publish_failed', message: `the publish failed at step ${p.step}` }
      throw new ApiRequestError(e.status ?? 422, e.code, e.message, { error: { ...e, step: p.step } })
    }
    await new Promise((r) => setTimeout(r, interval))
  }
}

/**
 * An async iterable fed by `push`, one item at a time, so a second consumer (the CID computation) reads
 * the same chunks as the upload without a second encryption pass and without a queue growing: each push
 * resolves once the consumer has taken the item. `close(error)` ends it; if the consumer stops early,
 * pushes stop waiting (its own promise reports why).
 */
export class Handoff<T> implements AsyncIterable<T> {
  private item: { value: T; taken: () => void } | undefined
  private waiting: (() => void) | undefined
  private ended = false
  private error: unknown
  private gone = false

  push(value: T): Promise<void> {
    if (this.gone || this.ended) return Promise.resolve()
    return new Promise((taken) => {
      this.item = { value, taken }
      this.wake()
    })
  }

  close(error?: unknown): void {
    if (this.ended) return
    this.ended = true
    this.error = error
    this.wake()
  }

  private wake(): void {
    const w = this.waiting
    this.waiting = undefined
    w?.()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    try {
      for (;;) {
        if (this.item) {
          const { value, taken } = this.item
          this.item = undefined
          taken()
          yield value
          continue
        }
        if (this.ended) {
          if (this.error !== undefined) throw this.error
          return
        }
        await new Promise<void>((r) => (this.waiting = r))
      }
    } finally {
      this.gone = true
      this.item?.taken()
      this.item = undefined
    }
  }
}

/** Passes `source` through, handing every chunk to `feed` first; ends `feed` however the source ends. */
export async function* feeding(
  source: AsyncIterable<Uint8Array>,
  feed: Handoff<Uint8Array>,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of source) {
      await feed.push(chunk)
      yield chunk
    }
    feed.close()
  } catch (err) {
    feed.close(err)
    throw err
  } finally {
    // The reader stopped early (the PUT was refused or cancelled): the CID computation must not wait.
    feed.close(new Error('the upload stopped before the end of the file'))
  }
}
