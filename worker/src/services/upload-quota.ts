// How many upload tickets an owner may take (issue 5): every ticket, one-pass (POST /api/uploads) or
// direct (POST /api/assets + `x-stillflow-upload: direct`), lets its holder store up to MAX_UPLOAD_BYTES
// on the IPFS node, unpinned until garbage collection (ipfs/src/repo/gc.ts) — and a direct ticket only
// needs a signed manifest for content nobody registered, which costs nothing to make up. So both count
// against UPLOAD_TICKETS_PER_HOUR per owner per rolling hour (default 60), in D1 `upload_intents`.
import type { Bindings } from '../env'
import { ApiError } from '../errors'

const DEFAULT_TICKETS_PER_HOUR = 60
const HOUR_S = 3600

export interface TicketRow {
  /** What the ticket is for: a one-pass intent's nonce, or `direct:` and the publication's key. */
  nonce: string
  owner: string
  size: number
  /** When the row may be pruned (after the hour it counts in). */
  expiresAt: number
}

/**
 * Records a ticket unless the owner has had `UPLOAD_TICKETS_PER_HOUR` in the last hour (429
 * `too_many_uploads` with `retryAfterSeconds`), in one statement so two requests at once cannot both
 * take the last place. A `nonce` recorded before is refused (`'refuse'`: 409 `intent_used`, a replayed
 * intent) or let through without counting again (`'allow'`: a new ticket for the same publication).
 */
export async function admitUploadTicket(
  env: Bindings,
  row: TicketRow,
  now: number,
  repeat: 'refuse' | 'allow',
): Promise<void> {
  const set = Number(env.UPLOAD_TICKETS_PER_HOUR ?? DEFAULT_TICKETS_PER_HOUR)
  // A setting that is not a positive number falls back to the default, as the other numeric settings do.
  const limit = Number.isFinite(set) && set >= 1 ? Math.floor(set) : DEFAULT_TICKETS_PER_HOUR
  const since = now - HOUR_S
  const [, inserted] = await env.DB.batch([
    env.DB.prepare('DELETE FROM upload_intents WHERE created_at <= ?1 AND expires_at <= ?2').bind(since, now),
    env.DB.prepare(
      `INSERT INTO upload_intents (nonce, owner, size, created_at, expires_at)
       SELECT ?1, ?2, ?3, ?4, ?5
       WHERE NOT EXISTS (SELECT 1 FROM upload_intents WHERE nonce = ?1)
         AND (SELECT count(*) FROM upload_intents WHERE owner = ?2 AND created_at > ?6) < ?7`,
    ).bind(row.nonce, row.owner, row.size, now, row.expiresAt, since, limit),
  ])
  if (inserted.meta.changes === 1) return
  const used = await env.DB.prepare('SELECT 1 FROM upload_intents WHERE nonce = ?1').bind(row.nonce).first()
  if (used) {
    if (repeat === 'allow') return
    throw new ApiError(
      409,
      'intent_used',
      'this UploadIntent already bought a ticket; sign a new one with a fresh nonce',
    )
  }
  const oldest = await env.DB.prepare(
    'SELECT min(created_at) AS at FROM upload_intents WHERE owner = ?1 AND created_at > ?2',
  )
    .bind(row.owner, since)
    .first<{ at: number | null }>()
  const wait = Math.max(1, (oldest?.at ?? now) + HOUR_S - now)
  throw new ApiError(
    429,
    'too_many_uploads',
    `at most ${limit} upload tickets per owner per hour; the next is free in ${Math.ceil(wait / 60)} min`,
    { retryAfterSeconds: wait },
  )
}
