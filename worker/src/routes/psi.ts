// /api/psi/sessions: the comparator C of the slides (R55, R61) as one Durable Object per session. Every
// call after creation is signed by a party (EIP-712 PsiRequest); results go only to the party asking.
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { addressBook } from '../services/config'
import { boundedObject, readJson } from '../middleware/body'
import type { PsiBindings } from '../psi/env'
import type { CreateSession, JoinSession, PsiAuth, PsiReply } from '../psi/session'
import { PSI_MAX_ELEMENTS } from '../psi/limits'

const STATUS = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  not_ready: 409,
  expired: 410,
  too_large: 413,
} as const

function unwrap<T>(reply: PsiReply<T>): T {
  if (reply.ok) return reply.value
  throw new ApiError(STATUS[reply.kind], reply.code, reply.message, reply.fields)
}

/** The Durable Object holding the session named in the path (Cloudflare calls this handle a stub). */
function sessionObject(c: Context<AppEnv>) {
  const id = c.req.param('id') ?? ''
  if (!/^0x[0-9a-fA-F]{64}$/.test(id)) throw new ApiError(400, 'psi_bad_session_id', 'Session id must be 32-byte hex')
  const ns = (c.env as PsiBindings).PSI_SESSIONS
  return ns.get(ns.idFromName(id.toLowerCase()))
}

function auth(c: Context<AppEnv>): PsiAuth {
  const role = c.req.header('x-psi-role')
  const nonce = c.req.header('x-psi-nonce')
  const rawDeadline = c.req.header('x-psi-deadline')
  const signature = c.req.header('x-psi-signature')
  if (!role || !nonce || !signature || !rawDeadline)
    throw new ApiError(401, 'psi_unsigned', 'Send x-psi-role, x-psi-nonce, x-psi-deadline and x-psi-signature')
  // Present but malformed is a bad request, not a missing signature.
  const deadline = Number(rawDeadline)
  if (role !== 'A' && role !== 'B') throw new ApiError(400, 'psi_bad_role', 'x-psi-role is A or B')
  if (!/^[0-9]{1,15}$/.test(rawDeadline) || !Number.isSafeInteger(deadline))
    throw new ApiError(400, 'psi_bad_deadline', 'x-psi-deadline is unix seconds, a whole number')
  return { role, nonce, deadline, signature }
}

/** Reads an octet-stream body, refusing it early when it cannot fit a session's largest list. */
async function octets(c: Context<AppEnv>): Promise<Uint8Array> {
  const limit = PSI_MAX_ELEMENTS * 32 + 16
  const declared = Number(c.req.header('content-length') ?? '0')
  if (declared > limit) throw new ApiError(413, 'psi_too_many_elements', `Bodies are at most ${limit} bytes`)
  const body = new Uint8Array(await c.req.arrayBuffer())
  if (body.length > limit) throw new ApiError(413, 'psi_too_many_elements', `Bodies are at most ${limit} bytes`)
  return body
}

/** Create and join bodies: a few addresses, hashes and signatures. */
const MAX_JSON_BYTES = 16 * 1024

async function json<T>(c: Context<AppEnv>): Promise<T> {
  const invalid = { code: 'bad_request', message: 'Body must be a JSON object' }
  const body = await readJson(c.req, MAX_JSON_BYTES, invalid, {
    code: 'request_too_large',
    message: `A session request is at most ${MAX_JSON_BYTES} bytes of JSON`,
  })
  return boundedObject(body, 8, invalid) as T
}

const binary = (bytes: Uint8Array) =>
  new Response(bytes as BodyInit, {
    headers: { 'content-type': 'application/octet-stream', 'cache-control': 'no-store' },
  })

export const psi = new Hono<AppEnv>()
  // Create: the creator names both parties and signs its own participation.
  .post('/', async (c) => {
    const body = await json<CreateSession>(c)
    if (typeof body?.sessionId !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(body.sessionId))
      throw new ApiError(400, 'psi_bad_session_id', 'sessionId must be 32-byte hex')
    // The result is committed on this marketplace's chain: a session signed for another chain would run to
    // the end and then fail every party's check of that commitment.
    const chainId = c.env.ADDRESS_BOOK ? addressBook(c.env).chainId : undefined
    if (chainId !== undefined && Number.isSafeInteger(body.chainId) && body.chainId !== chainId)
      throw new ApiError(
        400,
        'psi_wrong_chain',
        `this marketplace commits PSI results on chain ${chainId}; the session names chain ${body.chainId}`,
        { chainId },
      )
    const ns = (c.env as PsiBindings).PSI_SESSIONS
    const session = unwrap(await ns.get(ns.idFromName(body.sessionId.toLowerCase())).create(body))
    return c.json(session, 201)
  })
  .get('/:id', async (c) => c.json(unwrap(await sessionObject(c).describe())))
  // Join: the counterparty signs its participation.
  .post('/:id/join', async (c) => c.json(unwrap(await sessionObject(c).join(await json<JoinSession>(c)))))
  .put('/:id/relay', async (c) => {
    const a = auth(c)
    return c.json(unwrap(await sessionObject(c).putRelay(a, await octets(c))))
  })
  .get('/:id/relay', async (c) => binary(unwrap(await sessionObject(c).getRelay(auth(c)))))
  .put('/:id/blinded', async (c) => {
    const a = auth(c)
    return c.json(unwrap(await sessionObject(c).putBlinded(a, await octets(c))))
  })
  .get('/:id/result', async (c) => {
    c.header('cache-control', 'no-store')
    return c.json(unwrap(await sessionObject(c).getResult(auth(c))))
  })
