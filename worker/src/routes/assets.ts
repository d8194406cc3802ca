// POST /api/assets — the data-owner upload API (R1, R2, R7, R13, R70). The header `x-stillflow-manifest`
// carries the owner's signed metadata, the Publish signature and the wrapped data key. Authentication is
// the owner's EIP-712 Publish signature itself: it binds owner, content and metadata, and expires at its
// deadline. Two ways to hand over the ciphertext:
//  - in the body (application/octet-stream, streamed to IPFS, never buffered): one request, answered
//    201 when minted. Fine for small files; deployed Workers cap request bodies at 100–500 MB by plan.
//  - direct (`x-stillflow-upload: direct`, no body): 202 with a single-use upload ticket; the client
//    PUTs the ciphertext straight to IPFS's uploader (ipfs/src/upload-ticket.ts), then sends the same
//    manifest with `x-stillflow-upload: uploaded`; the worker pins the CID the owner signed (proof IPFS
//    holds exactly those bytes) and answers 202 at once — ingest and mint of a large file take minutes,
//    longer than clients wait for response headers — and the client polls GET /api/publications/:id.
//  - one pass: the ticket comes from a signed UploadIntent before the CID is known (routes/uploads.ts);
//    after the PUT the client sends the manifest with `x-stillflow-upload: uploaded` as above, with no
//    `direct` request before it.
import { Hono } from 'hono'
import { CID } from 'multiformats/cid'
import { z } from 'zod'
import { publishTypes } from '../../../contracts/index'
import type { AppEnv } from '../env'
import { fromBase64url } from '../../../tee-sim/src/bytes'
import { indexNow } from '../indexer'
import { ApiError } from '../errors'
import { addressBook } from '../services/config'
import { maxUploadBytes, requireDirectUploads } from '../services/ipfs'
import { enqueueFinish, finishInBackground } from '../services/publish-queue'
import { admitUploadTicket } from '../services/upload-quota'
import { displayTextProblem } from '../../../sdk/src/display-text'
import { isTag, TAG_RULE } from '../../../sdk/src/tags'
import {
  beginDirectUpload,
  claim,
  claimUploaded,
  fail,
  forget,
  pinUploaded,
  preflight,
  PublishError,
  requireOwnerSignature,
  runPipeline,
  type PublishRequest,
} from '../services/publish'

const MANIFEST_HEADER = 'x-stillflow-manifest'
const UPLOAD_HEADER = 'x-stillflow-upload'
/** The signature must outlive the upload, ingest and mint. */
const MIN_DEADLINE_SLACK_S = 60

const hex = (bytes: number) =>
  z.string().regex(new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`), `must be 0x and ${bytes} bytes of hex`)
const address = z.string().regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address')

export const manifestSchema = z.strictObject({
  declaration: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url')
    // A length of 4n+1 is never whole base64 (it would leave 6 bits): refused here, not by the decoder.
    .refine((s) => s.length % 4 !== 1, 'must be base64url of whole bytes')
    .max(12_000),
  signature: hex(65),
  deadline: z.number().int().positive(),
  wrappedKey: hex(80),
})

/** A title or description as listings show it (sdk/src/display-text.ts: no controls or bidi overrides). */
const displayText = (max: number, multiline: boolean) =>
  z.string().superRefine((text, ctx) => {
    const problem = displayTextProblem(text, { max, multiline })
    if (problem) ctx.addIssue({ code: 'custom', message: problem })
  })

export const declarationSchema = z.object({
  name: displayText(120, false).refine((t) => t.trim().length > 0, 'is required'),
  description: displayText(4000, true),
  image: z.string().optional(),
  attributes: z.array(z.object({ trait_type: z.string(), value: z.union([z.string(), z.number()]) })).max(32),
  stillflow: z.object({
    version: z.literal('stillflow.asset/v1'),
    owner: address,
    chainId: z.number().int().positive(),
    dataAssetNft: address,
    contentHash: hex(32),
    ciphertextCid: z.string().min(1).max(200),
    ciphertextSize: z.number().int().positive(),
    plaintextSize: z.number().int().positive(),
    format: z.enum(['csv', 'jsonl']),
    tags: z.array(z.string().refine(isTag, TAG_RULE)).max(12),
    policy: z.record(z.string(), z.unknown()),
    lawfulBasis: z.object({
      basis: z.string().min(1).max(64),
      statement: z.string().min(1).max(1000),
      personalData: z.boolean(),
    }),
  }),
})

const toHex = (bytes: ArrayBuffer) =>
  `0x${[...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')}`

function issues(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; ')
}

/** Parses and checks everything that can be checked before reading the body. */
async function parseRequest(c: {
  req: { header(name: string): string | undefined }
  env: AppEnv['Bindings']
}): Promise<PublishRequest> {
  const key = c.req.header('idempotency-key')
  if (!key || !/^[A-Za-z0-9_.:-]{1,128}$/.test(key)) {
    throw new ApiError(
      400,
      'idempotency_key_required',
      'send an Idempotency-Key header (1–128 letters, digits, _ . : -) so a retry never publishes twice',
    )
  }
  const raw = c.req.header(MANIFEST_HEADER)
  if (!raw)
    throw new ApiError(
      400,
      'manifest_required',
      `send the signed manifest in the ${MANIFEST_HEADER} header (base64url JSON)`,
    )
  let manifestJson: unknown
  try {
    manifestJson = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(fromBase64url(raw)))
  } catch {
    throw new ApiError(400, 'invalid_manifest', `${MANIFEST_HEADER} is not base64url-encoded JSON`)
  }
  const manifest = manifestSchema.safeParse(manifestJson)
  if (!manifest.success) throw new ApiError(400, 'invalid_manifest', issues(manifest.error))
  let declarationBytes: Uint8Array
  let declarationJson: unknown
  try {
    declarationBytes = fromBase64url(manifest.data.declaration)
    declarationJson = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(declarationBytes))
  } catch {
    throw new ApiError(400, 'invalid_metadata', 'the declaration is not UTF-8 JSON')
  }
  const parsed = declarationSchema.safeParse(declarationJson)
  if (!parsed.success) throw new ApiError(422, 'invalid_metadata', issues(parsed.error))
  const d = parsed.data
  const sf = d.stillflow
  const book = addressBook(c.env)
  if (sf.chainId !== book.chainId || sf.dataAssetNft.toLowerCase() !== book.contracts.DataAssetNFT?.toLowerCase()) {
    throw new ApiError(
      422,
      'wrong_chain',
      `this marketplace mints on chain ${book.chainId} at ${book.contracts.DataAssetNFT}`,
    )
  }
  let cid: CID
  try {
    cid = CID.parse(sf.ciphertextCid)
  } catch {
    throw new ApiError(422, 'invalid_metadata', 'stillflow.ciphertextCid is not a CID')
  }
  if (cid.version !== 1)
    throw new ApiError(422, 'invalid_metadata', 'stillflow.ciphertextCid must be a CIDv1 (raw leaves)')

  const maxBytes = maxUploadBytes(c.env)
  const declaredLength = Number(c.req.header('content-length') ?? sf.ciphertextSize)
  if (sf.ciphertextSize > maxBytes || declaredLength > maxBytes) {
    throw new ApiError(
      413,
      'upload_too_large',
      `uploads are limited to ${maxBytes} bytes; this one is ${Math.max(sf.ciphertextSize, declaredLength)}`,
    )
  }
  const now = Math.floor(Date.now() / 1000)
  if (manifest.data.deadline < now + MIN_DEADLINE_SLACK_S) {
    throw new ApiError(
      422,
      'signature_expired',
      `the Publish signature expires ${manifest.data.deadline <= now ? 'in the past' : 'too soon'}; sign again with a later deadline`,
    )
  }
  const metadataDigest = toHex(await crypto.subtle.digest('SHA-256', declarationBytes))
  const message = { owner: sf.owner, contentHash: sf.contentHash, metadataDigest, deadline: manifest.data.deadline }
  requireOwnerSignature(c.env, publishTypes, message, manifest.data.signature, sf.owner)
  // What the owner asked for, without the parts a fresh encryption changes (CID, wrapped key, signature):
  // re-running the same publish with the same Idempotency-Key is the same request.
  const { ciphertextCid: _cid, ...logical } = sf
  const requestHash = toHex(
    await crypto.subtle.digest(
      'SHA-256',
      new TextEncoder().encode(JSON.stringify([d.name, d.description, d.image ?? '', logical])),
    ),
  )
  return {
    owner: sf.owner.toLowerCase(),
    idempotencyKey: key,
    requestHash,
    contentHash: sf.contentHash.toLowerCase(),
    ciphertextCid: cid.toString(),
    declarationBytes,
    declaration: d,
    metadataDigest,
    signature: manifest.data.signature,
    deadline: manifest.data.deadline,
    wrappedKey: manifest.data.wrappedKey,
    format: sf.format,
    policy: sf.policy,
  }
}

/** Runs the on-chain checks; a refusal is recorded on the publication before it is thrown. */
async function checkBeforeUpload(env: AppEnv['Bindings'], id: string, req: PublishRequest): Promise<void> {
  try {
    await preflight(env, req)
  } catch (err) {
    if (err instanceof PublishError) await fail(env, id, err)
    throw err
  }
}

/**
 * A direct ticket counts against the owner's hourly upload tickets (services/upload-quota.ts); asking
 * again for the same publication (same owner and Idempotency-Key) does not count twice. Over the limit,
 * the publication fails at `upload` with 429 — nothing was pinned — and the same key may try again later.
 */
async function admitDirectTicket(env: AppEnv['Bindings'], id: string, req: PublishRequest, size: number) {
  const now = Math.floor(Date.now() / 1000)
  const owner = req.owner.toLowerCase()
  try {
    await admitUploadTicket(
      env,
      { nonce: `direct:${owner}:${req.idempotencyKey}`, owner, size, expiresAt: now + TICKET_ROW_S },
      now,
      'allow',
    )
  } catch (err) {
    if (!(err instanceof ApiError)) throw err
    const refused = new PublishError(err.status, err.code, err.message, 'upload', err.fields)
    await fail(env, id, refused)
    throw refused
  }
}
/** How long a direct ticket's row is kept at least: a ticket's own lifetime (services/ipfs.ts). */
const TICKET_ROW_S = 600

export const assets = new Hono<AppEnv>().post('/', async (c) => {
  const mode = c.req.header(UPLOAD_HEADER)
  if (mode !== undefined && mode !== 'direct' && mode !== 'uploaded') {
    throw new ApiError(400, 'invalid_upload_mode', `${UPLOAD_HEADER} is "direct" or "uploaded"`)
  }
  const req = await parseRequest(c)

  if (mode === 'direct') {
    requireDirectUploads(c.env)
    const { id, done } = await claim(c.env, req, { direct: true })
    if (done) return c.json(done, 200)
    await checkBeforeUpload(c.env, id, req)
    const size = req.declaration.stillflow.ciphertextSize as number
    await admitDirectTicket(c.env, id, req, size)
    const upload = await beginDirectUpload(c.env, id, req, size)
    return c.json({ id, status: 'pending', step: 'upload', upload }, 202)
  }

  if (mode === 'uploaded') {
    const { id, done, fresh } = await claimUploaded(c.env, req)
    if (done) return c.json(done, 200)
    await checkBeforeUpload(c.env, id, req)
    await pinUploaded(c.env, id, req).catch(async (err: unknown) => {
      // A one-pass publication that starts here and finds no upload leaves nothing behind; one that
      // began with a ticket keeps waiting at step `upload` for the PUT.
      if (fresh && err instanceof PublishError && err.code === 'upload_missing') await forget(c.env, id)
      throw err
    })
    if (!(await enqueueFinish(c.env, id, req))) c.executionCtx.waitUntil(finishInBackground(c.env, id, req))
    return c.json({ id, status: 'pending', step: 'ingest', poll: `/api/publications/${id}` }, 202)
  }

  const { id, done } = await claim(c.env, req)
  if (done) return c.json(done, 200)
  await checkBeforeUpload(c.env, id, req)
  if (!c.req.raw.body) throw new ApiError(400, 'body_required', 'send the ciphertext as the request body')
  const outcome = await runPipeline(c.env, id, req, c.req.raw.body, maxUploadBytes(c.env))
  return c.json(outcome, 201)
})
