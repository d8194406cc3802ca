// Sign-In with Ethereum (EIP-4361; R73): POST /nonce, POST /login { message, signature }, GET /me,
// POST /logout. A nonce is spent by the first login that uses it; the message must name this host.
import { and, eq, gt, lt } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { Hono } from 'hono'
import { SiweMessage, generateNonce } from 'siwe'
import { base64url } from '../../../tee-sim/src/bytes'
import { authNonces, sessions } from '../db/schema'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { readJson } from '../middleware/body'
import { requireSession, tokenHash } from '../middleware/session'
import { addressBook } from '../services/config'

const NONCE_TTL_MS = 10 * 60_000
const SESSION_TTL_MS = 7 * 24 * 3600_000

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return base64url(bytes)
}

/** What a sign-in body must be; its message is at most 4000 characters, so 16 KiB holds any valid one. */
const LOGIN_SHAPE = { code: 'invalid_login', message: 'send { message: <EIP-4361 text>, signature: 0x… }' }

export const auth = new Hono<AppEnv>()
  .post('/nonce', async (c) => {
    const db = drizzle(c.env.DB)
    const now = Date.now()
    await db.delete(authNonces).where(lt(authNonces.expiresAt, now))
    const nonce = generateNonce()
    await db.insert(authNonces).values({ nonce, expiresAt: now + NONCE_TTL_MS })
    return c.json({ nonce, expiresAt: new Date(now + NONCE_TTL_MS).toISOString() })
  })
  .post('/login', async (c) => {
    const body = (await readJson(c.req, 16 * 1024, LOGIN_SHAPE)) as { message?: unknown; signature?: unknown } | null
    if (typeof body?.message !== 'string' || typeof body.signature !== 'string') {
      throw new ApiError(400, LOGIN_SHAPE.code, LOGIN_SHAPE.message)
    }
    if (body.message.length > 4000)
      throw new ApiError(400, 'invalid_login', 'the sign-in message is longer than 4000 characters')
    let message: SiweMessage
    try {
      message = new SiweMessage(body.message)
    } catch {
      throw new ApiError(400, 'invalid_login', 'message is not an EIP-4361 Sign-In with Ethereum message')
    }
    // The parser takes some times Date cannot read (a leap second, :60): refused before the nonce is spent.
    for (const [field, value] of [
      ['Expiration Time', message.expirationTime],
      ['Not Before', message.notBefore],
      ['Issued At', message.issuedAt],
    ] as const) {
      if (value !== undefined && Number.isNaN(Date.parse(value)))
        throw new ApiError(400, 'invalid_login', `the message's ${field} is not a valid time`)
    }
    const host = new URL(c.req.url).host
    if (message.domain !== host)
      throw new ApiError(401, 'wrong_domain', `the message signs in to ${message.domain}, not ${host}`)
    if (message.chainId !== addressBook(c.env).chainId)
      throw new ApiError(401, 'wrong_chain', `sign in with chain id ${addressBook(c.env).chainId}`)
    const db = drizzle(c.env.DB)
    const now = Date.now()
    // Spend the nonce before checking the signature, so a nonce is never usable twice (replay).
    const spent = await db
      .delete(authNonces)
      .where(and(eq(authNonces.nonce, message.nonce), gt(authNonces.expiresAt, now)))
      .returning()
    if (spent.length === 0)
      throw new ApiError(401, 'invalid_nonce', 'the nonce is unknown, used or expired; ask for a new one')
    const result = await message.verify(
      { signature: body.signature, domain: host, nonce: message.nonce, time: new Date(now).toISOString() },
      { suppressExceptions: true },
    )
    if (!result.success)
      throw new ApiError(401, 'invalid_signature', `sign-in refused: ${result.error?.type ?? 'bad signature'}`)
    const token = randomToken()
    const expiresAt = Math.min(
      now + SESSION_TTL_MS,
      message.expirationTime ? Date.parse(message.expirationTime) : Infinity,
    )
    await db
      .insert(sessions)
      .values({ tokenHash: await tokenHash(token), address: message.address.toLowerCase(), createdAt: now, expiresAt })
    return c.json({ token, address: message.address, expiresAt: new Date(expiresAt).toISOString() }, 201)
  })
  .get('/me', requireSession, (c) => c.json({ address: c.get('address') }))
  .post('/logout', requireSession, async (c) => {
    await drizzle(c.env.DB)
      .delete(sessions)
      .where(eq(sessions.tokenHash, c.get('sessionHash')))
    return c.body(null, 204)
  })
