// The publish queue inside workerd against real D1: a publication's held request is taken by exactly one
// delivery, a message for a publication with nothing held (finished, failed, taken) or a malformed one is
// acknowledged without work, and a finish that fails because IPFS is unreachable (the closed port 9)
// is retried with the request back on the publication, until the last attempt records the
// failure. Failures about the owner's data are not retried: test/e2e/publish.test.ts (corrupt chunk,
// mismatched content hash) runs through this queue.
import { SELF } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { holdRequest, takeHeldRequest } from '../../worker/src/services/publish'
import { publishRequest } from './support/publish-request'
import {
  handlePublishBatch,
  PUBLISH_ATTEMPTS,
  PUBLISH_QUEUE,
  retryDelaySeconds,
  type PublishMessage,
} from '../../worker/src/services/publish-queue'
import { mayPassOnRetry, PublishError } from '../../worker/src/services/publish'

const base = {
  ...env,
  CHAIN_RPC_URL: 'http://127.0.0.1:9',
  ENCLAVE_URL: 'http://127.0.0.1:9',
  IPFS_API_URL: 'http://127.0.0.1:9',
  ADDRESS_BOOK: JSON.stringify({ chainId: 31337, contracts: { DataAssetNFT: `0x${'44'.repeat(20)}` } }),
}

async function publication(status = 'pending', step = 'ingest'): Promise<string> {
  const id = crypto.randomUUID()
  const t = Date.now()
  await env.DB.prepare(
    `INSERT INTO publications (id, owner, idempotency_key, request_hash, content_hash, status, step, ciphertext_cid, created_at, updated_at)
     VALUES (?1, ?2, ?3, 'h', ?4, ?5, ?6, 'bafkreicid', ?7, ?7)`,
  )
    .bind(id, `0x${'aa'.repeat(20)}`, id, `0x${'11'.repeat(32)}`, status, step, t)
    .run()
  return id
}

const request = (id: string) => publishRequest({ idempotencyKey: id })

function batchOf(bodies: unknown[], attempts = 1) {
  const acked: unknown[] = []
  const retried: Array<{ delaySeconds?: number }> = []
  const batch = {
    queue: PUBLISH_QUEUE,
    messages: bodies.map((body, i) => ({
      id: `m${i}`,
      body,
      attempts,
      ack: () => acked.push(body),
      retry: (opts: { delaySeconds?: number } = {}) => retried.push(opts),
    })),
  } as unknown as MessageBatch<PublishMessage>
  return { batch, acked, retried }
}

const row = (id: string) =>
  env.DB.prepare('SELECT status, step, error_code, pending_request FROM publications WHERE id = ?1')
    .bind(id)
    .first<{ status: string; step: string; error_code: string | null; pending_request: string | null }>()
const publicationView = async (id: string) =>
  (await SELF.fetch(`http://stillflow.test/api/publications/${id}`)).json<Record<string, unknown>>()

describe('the publish queue', () => {
  it('hands a held request to one delivery only, byte for byte', async () => {
    const id = await publication()
    const req = request(id)
    await holdRequest(base, id, req)
    const [a, b] = await Promise.all([takeHeldRequest(base, id), takeHeldRequest(base, id)])
    const taken = [a, b].filter(Boolean)
    expect(taken).toHaveLength(1)
    expect(taken[0]).toEqual(req)
    expect((await row(id))?.pending_request).toBeNull()
  })

  it('takes nothing from a publication that is no longer waiting to be finished', async () => {
    const id = await publication('failed', 'ingest')
    await holdRequest(base, id, request(id))
    expect(await takeHeldRequest(base, id)).toBeUndefined()
  })

  it('acknowledges malformed messages and messages with nothing held, without work', async () => {
    const finished = await publication('minted', 'mint')
    const { batch, acked, retried } = batchOf([{ publicationId: finished }, { nope: 1 }, null])
    await handlePublishBatch(batch, base)
    expect(acked).toHaveLength(3)
    expect(retried).toHaveLength(0)
    expect((await row(finished))?.status).toBe('minted')
  })

  it('retries a finish while IPFS cannot be reached, holding the request again, then records the last failure', async () => {
    const id = await publication()
    await holdRequest(base, id, request(id))
    for (let attempt = 1; attempt < PUBLISH_ATTEMPTS; attempt++) {
      const { batch, acked, retried } = batchOf([{ publicationId: id }], attempt)
      await handlePublishBatch(batch, base)
      expect(acked).toHaveLength(0)
      expect(retried).toEqual([{ delaySeconds: retryDelaySeconds(attempt) }])
      // Still pending at ingest, the request back on the row, the error shown as what is being retried.
      const waiting = await row(id)
      expect(waiting).toMatchObject({ status: 'pending', step: 'ingest', error_code: 'ipfs_unavailable' })
      expect(waiting?.pending_request).not.toBeNull()
      const view = await publicationView(id)
      expect(view).toMatchObject({ status: 'pending', retrying: { code: 'ipfs_unavailable' } })
      expect(view.error).toBeUndefined()
    }
    const last = batchOf([{ publicationId: id }], PUBLISH_ATTEMPTS)
    await handlePublishBatch(last.batch, base)
    expect(last.acked).toHaveLength(1)
    expect(last.retried).toHaveLength(0)
    expect(await row(id)).toMatchObject({ status: 'failed', step: 'ingest', pending_request: null })
    expect(await publicationView(id)).toMatchObject({ status: 'failed', error: { code: 'ipfs_unavailable' } })
    // A further delivery of the same message finds nothing left to do.
    const again = batchOf([{ publicationId: id }], PUBLISH_ATTEMPTS + 1)
    await handlePublishBatch(again.batch, base)
    expect(again.acked).toHaveLength(1)
  })

  it('retries only what may pass: an unavailable enclave or IPFS at ingest or metadata, never a refusal or a mint', () => {
    const down = new PublishError(502, 'enclave_unavailable', 'down', 'ingest')
    expect(mayPassOnRetry(down, 'ingest')).toBe(true)
    expect(mayPassOnRetry(new Error('ipfs add failed'), 'metadata')).toBe(true)
    expect(mayPassOnRetry(new PublishError(422, 'csv_invalid', 'bad row', 'ingest'), 'ingest')).toBe(false)
    expect(mayPassOnRetry(new PublishError(502, 'chain_unavailable', 'down', 'mint'), 'mint')).toBe(false)
    expect(retryDelaySeconds(1)).toBe(5)
    expect(retryDelaySeconds(4)).toBe(40)
  })
})
