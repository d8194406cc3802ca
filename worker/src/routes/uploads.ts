// POST /api/uploads — a one-pass upload ticket (issue 5; R1, R13). The direct publish path asks for a
// ticket with the signed Publish manifest, which names the ciphertext's CID, so the client must read and
// encrypt the whole file once to learn the CID and again to upload it. Here the owner signs an
// `UploadIntent` (owner, exact size, nonce, deadline) instead: the ticket names no CID, the client
// encrypts, hashes and uploads in the same pass, the uploader answers with the CID it stored (unpinned),
// and the owner then signs the Publish manifest naming that CID and finishes with
// `POST /api/assets` + `x-stillflow-upload: uploaded`, which pins it. Nothing is pinned or minted here.
//
// Replay: the intent's nonce is recorded here (D1 `upload_intents`) and is also the ticket's id, which
// the uploader spends on first use: a resent intent is refused (409 `intent_used`), and a ticket
// replayed to the uploader starts nothing. Abuse: an owner may take UPLOAD_TICKETS_PER_HOUR tickets,
// direct ones included, per rolling hour (default 60; 429 `too_many_uploads` with Retry-After;
// services/upload-quota.ts), since every ticket lets its holder store bytes until garbage collection.
import { Hono } from 'hono'
import { z } from 'zod'
import { uploadIntentTypes } from '../../../contracts/index'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { readJson } from '../middleware/body'
import { issueUploadTicket, maxUploadBytes, requireDirectUploads } from '../services/ipfs'
import { requireOwnerSignature } from '../services/publish'
import { admitUploadTicket } from '../services/upload-quota'

/** A ticket is for starting an upload soon, not for hoarding: the intent may not reach further. */
const MAX_INTENT_S = 3600
const MAX_BODY_BYTES = 2048

export const intentSchema = z.strictObject({
  owner: z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address'),
  size: z.number().int().positive(),
  nonce: z.string().regex(/^0x[0-9a-fA-F]{64}$/, 'must be 0x and 32 bytes of hex'),
  deadline: z.number().int().positive(),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'must be 0x and 65 bytes of hex'),
})

export const uploads = new Hono<AppEnv>().post('/', async (c) => {
  requireDirectUploads(c.env)
  const json = await readJson(c.req, MAX_BODY_BYTES, {
    code: 'invalid_intent',
    message: 'send { owner, size, nonce, deadline, signature } as JSON',
  })
  const parsed = intentSchema.safeParse(json)
  if (!parsed.success) {
    throw new ApiError(
      400,
      'invalid_intent',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; '),
    )
  }
  const { signature, ...intent } = parsed.data
  const max = maxUploadBytes(c.env)
  if (intent.size > max) {
    throw new ApiError(413, 'upload_too_large', `uploads are limited to ${max} bytes; this one is ${intent.size}`)
  }
  const now = Math.floor(Date.now() / 1000)
  if (intent.deadline <= now) {
    throw new ApiError(422, 'signature_expired', 'the UploadIntent deadline has passed; sign again')
  }
  if (intent.deadline > now + MAX_INTENT_S) {
    throw new ApiError(
      422,
      'deadline_too_far',
      `an UploadIntent may be valid for at most ${MAX_INTENT_S} s; sign one with an earlier deadline`,
    )
  }
  requireOwnerSignature(c.env, uploadIntentTypes, intent, signature, intent.owner)
  const owner = intent.owner.toLowerCase()
  // Signed before it is recorded: a ticket that cannot be issued leaves no row that counts against the owner.
  const upload = await issueUploadTicket(c.env, {
    cid: null,
    size: intent.size,
    owner,
    id: intent.nonce.slice(2),
    notAfter: intent.deadline,
  })
  await admitUploadTicket(
    c.env,
    { nonce: intent.nonce.toLowerCase(), owner, size: intent.size, expiresAt: intent.deadline },
    now,
    'refuse',
  )
  return c.json({ upload }, 201)
})
