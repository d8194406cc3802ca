// Which publications hold a dataset against another request for the same content (services/publish.ts
// claim): one past its upload does (its ingest and mint are what a second would repeat); one still waiting
// for its upload does not — else a dropped connection locked its owner out for 15 minutes, and anyone who
// knew a file's hash could block its publication by signing a manifest for it, sending nothing. Real D1.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { claim, PublishError } from '../../worker/src/services/publish'
import { publishRequest } from './support/publish-request'

const ALICE = `0x${'aa'.repeat(20)}`
const MALLORY = `0x${'bb'.repeat(20)}`

let n = 0
/** A content hash of its own per test, so the tests do not see each other's rows. */
const freshContent = () => `0x${(++n).toString(16).padStart(64, 'e')}`

async function startedBy(owner: string, content: string, step: string): Promise<void> {
  const t = Date.now()
  await env.DB.prepare(
    `INSERT INTO publications (id, owner, idempotency_key, request_hash, content_hash, status, step, created_at, updated_at)
     VALUES (?1, ?2, ?1, 'h', ?3, 'pending', ?4, ?5, ?5)`,
  )
    .bind(crypto.randomUUID(), owner, content, step, t)
    .run()
}

const request = (owner: string, content: string) => publishRequest({ owner, contentHash: content })

describe('claiming a publication of content another request started', () => {
  it.each(['validate', 'upload'])(
    'goes ahead while the other is still at %s — its own owner retrying, or anyone else',
    async (step) => {
      for (const [first, second] of [
        [ALICE, ALICE],
        [MALLORY, ALICE],
      ]) {
        const content = freshContent()
        await startedBy(first, content, step)
        const claimed = await claim(env, request(second, content))
        expect(claimed.id).toMatch(/^[0-9a-f-]{36}$/)
      }
    },
  )

  it.each(['ingest', 'metadata', 'mint'])(
    'is refused 409 publish_in_progress while the other is at %s',
    async (step) => {
      const content = freshContent()
      await startedBy(MALLORY, content, step)
      const refused = await claim(env, request(ALICE, content)).catch((e: unknown) => e)
      expect(refused).toBeInstanceOf(PublishError)
      expect(refused).toMatchObject({ status: 409, code: 'publish_in_progress' })
    },
  )
})
