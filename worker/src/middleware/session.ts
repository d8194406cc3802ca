// Resolves `Authorization: Bearer <token>` to the signed-in address (a SIWE session), for routes that show
// an account its own records. Tokens are compared by SHA-256; the token itself is never stored.
import { and, eq, gt } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { createMiddleware } from 'hono/factory'
import { sessions } from '../db/schema'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'

export async function tokenHash(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Requires a live session; sets `address` (lowercase) and `sessionHash`. */
export const requireSession = createMiddleware<AppEnv & { Variables: { address: string; sessionHash: string } }>(
  async (c, next) => {
    const header = c.req.header('authorization') ?? ''
    const match = /^Bearer ([A-Za-z0-9_-]{20,100})$/.exec(header)
    if (!match) throw new ApiError(401, 'session_required', 'sign in first (SIWE): send Authorization: Bearer <token>')
    const hash = await tokenHash(match[1])
    const [row] = await drizzle(c.env.DB)
      .select()
      .from(sessions)
      .where(and(eq(sessions.tokenHash, hash), gt(sessions.expiresAt, Date.now())))
    if (!row) throw new ApiError(401, 'session_expired', 'the session is unknown or expired; sign in again')
    c.set('address', row.address)
    c.set('sessionHash', hash)
    await next()
  },
)
