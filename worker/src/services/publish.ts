// The publish pipeline (DESIGN §3 Publish; R1, R2, R7, R11, R13): ciphertext → IPFS (CID checked against
// the one the owner signed) → enclave ingest → metadata → relayer mint. Each step is recorded in D1; a
// failure undoes the earlier steps (unpins), so there is never an NFT without its data or an orphan pin.
import { and, eq } from 'drizzle-orm'
import { isAddress, verifyTypedData, type TypedDataField } from 'ethers'
import { drizzle } from 'drizzle-orm/d1'
import { publishDomain } from '../../../contracts/index'
import { publications } from '../db/schema'
import type { Bindings } from '../env'
import { ApiError, WRONG_CHECKSUM } from '../errors'
import { base64url, fromBase64url } from '../../../tee-sim/src/bytes'
import { addressBook } from './config'
import { enclaveIngest, UpstreamError, type IngestResult } from './enclave'
import {
  addSmall,
  addStream,
  catStream,
  ContentMissingError,
  issueUploadTicket,
  pinExisting,
  unpin,
  UploadTooLargeError,
} from './ipfs'
import { ContractRevertError, mintWithSignature, tokenOfContent } from './relayer'

export type PublishStep = 'validate' | 'upload' | 'ingest' | 'metadata' | 'mint'

/** A publish that failed at `step`; the route answers with `status`, `code` and the step. */
export class PublishError extends ApiError {
  constructor(
    status: ConstructorParameters<typeof ApiError>[0],
    code: string,
    message: string,
    readonly step: PublishStep,
    extra: Record<string, unknown> = {},
  ) {
    super(status, code, message, { step, ...extra })
  }
}

export interface PublishRequest {
  owner: string
  idempotencyKey: string
  requestHash: string
  contentHash: string
  ciphertextCid: string
  declarationBytes: Uint8Array
  declaration: {
    name: string
    description: string
    image?: string
    attributes: unknown[]
    stillflow: Record<string, unknown>
  }
  metadataDigest: string
  signature: string
  deadline: number
  wrappedKey: string
  format: 'csv' | 'jsonl'
  policy: unknown
}

export interface PublishOutcome {
  id: string
  status: 'minted'
  tokenId: string
  txHash: string
  chainId: number
  owner: string
  contentHash: string
  ciphertextCid: string
  declarationCid: string
  metadataCid: string
  metadataDigest: string
  ingest: Pick<IngestResult, 'receipt' | 'signature' | 'signer' | 'schema' | 'statistics'>
}

/** A publication still `pending` after this long was cut off (the worker restarted): it may be retried. */
const STALE_MS = 15 * 60_000

const now = () => Date.now()

/**
 * While the enclave ingests (minutes for a large file), the publication's `updatedAt` is touched this
 * often; a direct publish whose ingest stopped beating for ABANDONED_MS was cut off (the worker restarted
 * or was evicted; a deployed worker's waitUntil is bounded too) and is failed when next looked at, so a
 * polling client gets an answer instead of waiting forever.
 */
const HEARTBEAT_MS = 30_000
const ABANDONED_MS = 4 * HEARTBEAT_MS

/** The publication this owner started under this Idempotency-Key, checked to be the same request. */
async function sameRequest(env: Bindings, req: PublishRequest) {
  const [row] = await drizzle(env.DB)
    .select()
    .from(publications)
    .where(and(eq(publications.owner, req.owner), eq(publications.idempotencyKey, req.idempotencyKey)))
  if (row && row.requestHash !== req.requestHash) {
    throw new PublishError(
      422,
      'idempotency_key_reused',
      'this Idempotency-Key was used for a different publish request',
      'validate',
    )
  }
  return row
}

/**
 * Claims the idempotency key. Returns a finished outcome for a replay of a minted request, or the row id
 * to run the pipeline under. With `direct`, a request still waiting for its direct upload may ask again
 * (a lost, expired or spent ticket gets a new one; nothing was pinned).
 */
export async function claim(
  env: Bindings,
  req: PublishRequest,
  opts: { direct?: boolean } = {},
): Promise<{ done?: PublishOutcome; id: string }> {
  const db = drizzle(env.DB)
  const existing = await sameRequest(env, req)
  if (existing) {
    if (existing.status === 'minted') return { id: existing.id, done: outcomeOf(existing) }
    if (opts.direct && existing.status === 'pending' && existing.step === 'upload' && existing.ciphertextCid) {
      return { id: existing.id }
    }
    if (existing.status !== 'failed' && now() - existing.updatedAt < STALE_MS) {
      throw new PublishError(
        409,
        'publish_in_progress',
        `this request is still being processed (step ${existing.step})`,
        existing.step as PublishStep,
        { id: existing.id },
      )
    }
    await undo(env, [existing.ciphertextCid, existing.metadataCid])
    await db
      .update(publications)
      .set({ status: 'pending', step: 'validate', errorCode: null, errorMessage: null, updatedAt: now() })
      .where(eq(publications.id, existing.id))
    return { id: existing.id }
  }
  const busy = await db
    .select()
    .from(publications)
    .where(and(eq(publications.contentHash, req.contentHash)))
  // Only a publication past its upload holds the dataset (its ingest and mint are the work a second one
  // would repeat, and the chain would refuse one of the two mints anyway). One still waiting for its upload
  // does not: else a lost connection locked the owner out for STALE_MS, and anyone who knew a file's hash
  // could sign a manifest for it and block its publication without sending a byte.
  const running = busy.find(
    (p) =>
      p.status !== 'failed' &&
      p.status !== 'minted' &&
      p.step !== 'validate' &&
      p.step !== 'upload' &&
      now() - p.updatedAt < STALE_MS,
  )
  if (running)
    throw new PublishError(
      409,
      'publish_in_progress',
      'this dataset is being published by another request',
      'validate',
      { id: running.id },
    )
  const id = crypto.randomUUID()
  await db.insert(publications).values({
    id,
    owner: req.owner,
    idempotencyKey: req.idempotencyKey,
    requestHash: req.requestHash,
    contentHash: req.contentHash,
    status: 'pending',
    step: 'validate',
    createdAt: now(),
    updatedAt: now(),
  })
  return { id }
}

function outcomeOf(row: typeof publications.$inferSelect): PublishOutcome {
  return JSON.parse(row.result ?? '{}') as PublishOutcome
}

async function undo(env: Bindings, cids: Array<string | null | undefined>): Promise<void> {
  for (const cid of cids) if (cid) await unpin(env, cid).catch(() => undefined)
}

async function mark(env: Bindings, id: string, fields: Partial<typeof publications.$inferInsert>): Promise<void> {
  await drizzle(env.DB)
    .update(publications)
    .set({ ...fields, updatedAt: now() })
    .where(eq(publications.id, id))
}

/** Maps an enclave refusal to the caller's status: its 4xx are about what the owner sent. */
function enclaveFailure(err: unknown): PublishError {
  if (err instanceof UpstreamError && err.status >= 400 && err.status < 500) {
    return new PublishError(
      err.status === 413 ? 413 : 422,
      err.code,
      `the enclave refused the dataset: ${err.message}`,
      'ingest',
    )
  }
  return new PublishError(
    502,
    'enclave_unavailable',
    `the enclave could not ingest the dataset: ${(err as Error).message}`,
    'ingest',
  )
}

function mintFailure(err: unknown, contentHash: string): PublishError {
  if (err instanceof ContractRevertError) {
    switch (err.errorName) {
      case 'DataAssetNFTInvalidSignature':
        return new PublishError(401, 'invalid_signature', 'the Publish signature is not the owner’s', 'mint')
      case 'DataAssetNFTSignatureExpired':
        return new PublishError(
          422,
          'signature_expired',
          'the Publish signature’s deadline has passed; sign again',
          'mint',
        )
      case 'DataAssetNFTContentAlreadyMinted':
        return new PublishError(409, 'already_published', `this dataset is already asset ${err.args[1]}`, 'mint', {
          tokenId: String(err.args[1]),
          contentHash,
        })
      case 'EnforcedPause':
        return new PublishError(503, 'paused', 'the marketplace contracts are paused', 'mint')
      default:
        return new PublishError(422, 'mint_refused', `the contract refused the mint: ${err.message}`, 'mint')
    }
  }
  return new PublishError(502, 'chain_unavailable', `the mint transaction failed: ${(err as Error).message}`, 'mint')
}

/**
 * Checks an owner's EIP-712 signature under the DataAssetNFT's domain (`Publish`, `UploadIntent`):
 * 401 `invalid_signature` when it is malformed or by anyone but `owner`.
 */
export function requireOwnerSignature(
  env: Bindings,
  types: Record<string, TypedDataField[]>,
  message: Record<string, unknown>,
  signature: string,
  owner: string,
): void {
  const book = addressBook(env)
  const name = Object.keys(types)[0]
  if (!isAddress(owner)) throw new ApiError(400, 'invalid_owner', `the owner ${owner} ${WRONG_CHECKSUM}`)
  let signer: string
  try {
    signer = verifyTypedData(publishDomain(book.chainId, book.contracts.DataAssetNFT), types, message, signature)
  } catch {
    throw new ApiError(401, 'invalid_signature', `the ${name} signature is malformed`)
  }
  if (signer.toLowerCase() !== owner.toLowerCase()) {
    throw new ApiError(401, 'invalid_signature', `the ${name} signature is by ${signer}, not by the owner ${owner}`)
  }
}

/** Removes a publication that never got past its first check: nothing was pinned, minted or charged. */
export async function forget(env: Bindings, id: string): Promise<void> {
  await drizzle(env.DB).delete(publications).where(eq(publications.id, id))
}

/** Records a failure that happened before the pipeline ran. */
export async function fail(env: Bindings, id: string, err: PublishError): Promise<void> {
  await mark(env, id, { status: 'failed', step: err.step, errorCode: err.code, errorMessage: err.message })
}

/** Checks on chain, before a byte is uploaded, that the mint would succeed (signature, deadline, R2). */
export async function preflight(env: Bindings, req: PublishRequest): Promise<void> {
  const existing = await tokenOfContent(env, req.contentHash)
  if (existing) {
    throw new PublishError(409, 'already_published', `this dataset is already asset ${existing}`, 'validate', {
      tokenId: existing,
      contentHash: req.contentHash,
    })
  }
}

/** Which step is running and what has been pinned so far: what a failure must undo. */
interface Progress {
  step: PublishStep
  pinned: string[]
}

/**
 * Runs `work`; on failure unpins what it pinned, records the failure (with its HTTP status, so a
 * client polling the publication sees the same answer a synchronous request would have got) and
 * rethrows it as a PublishError.
 */
async function undoOnFailure<T>(
  env: Bindings,
  id: string,
  progress: Progress,
  work: (p: Progress) => Promise<T>,
): Promise<T> {
  try {
    return await work(progress)
  } catch (err) {
    const failure = await recordFailure(env, id, progress, err)
    if (!(err instanceof PublishError)) throw err
    throw failure
  }
}

/** Unpins what `progress` pinned and records `err` as the publication's failure; returns it as a PublishError. */
async function recordFailure(env: Bindings, id: string, progress: Progress, err: unknown): Promise<PublishError> {
  const failure = err instanceof PublishError ? err : new PublishError(500, 'internal', 'Internal error', progress.step)
  await undo(env, progress.pinned)
  await mark(env, id, {
    status: 'failed',
    step: failure.step,
    errorCode: failure.code,
    errorMessage: failure.message,
    result: JSON.stringify({
      error: { status: failure.status, code: failure.code, message: failure.message, ...failure.fields },
    }),
  }).catch(() => undefined)
  return failure
}

/** The request body path: stream the ciphertext into IPFS, check its CID, then ingest, metadata, mint. */
export async function runPipeline(
  env: Bindings,
  id: string,
  req: PublishRequest,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<PublishOutcome> {
  return undoOnFailure(env, id, { step: 'upload', pinned: [] }, async (progress) => {
    await mark(env, id, { step: 'upload' })
    let uploaded: { cid: string; size: number }
    try {
      uploaded = await addStream(env, body, maxBytes)
    } catch (err) {
      if (err instanceof UploadTooLargeError) throw new PublishError(413, 'upload_too_large', err.message, 'upload')
      throw new PublishError(
        502,
        'ipfs_unavailable',
        `storing the ciphertext failed: ${(err as Error).message}`,
        'upload',
      )
    }
    progress.pinned.push(uploaded.cid)
    await mark(env, id, { ciphertextCid: uploaded.cid })
    if (uploaded.cid !== req.ciphertextCid) {
      throw new PublishError(
        422,
        'ciphertext_cid_mismatch',
        `the uploaded bytes have CID ${uploaded.cid}, but the signed metadata names ${req.ciphertextCid} (truncated or altered upload)`,
        'upload',
      )
    }
    return ingestAndMint(env, id, req, progress)
  })
}

/**
 * Direct upload, first half: the manifest has passed every check, so the owner gets a ticket to PUT the
 * ciphertext straight to the uploader. Nothing is pinned yet; the row waits at step `upload`.
 */
export async function beginDirectUpload(env: Bindings, id: string, req: PublishRequest, size: number) {
  await mark(env, id, { step: 'upload', ciphertextCid: req.ciphertextCid })
  return issueUploadTicket(env, { cid: req.ciphertextCid, size, owner: req.owner })
}

/**
 * Direct upload, second half: the same signed manifest again, after the PUT. Returns the publication to
 * finish, or a finished outcome when this is a replay of a minted request. With no earlier request (a
 * one-pass upload: the ticket came from an UploadIntent, routes/uploads.ts) the publication starts here,
 * `fresh`: if IPFS turns out not to hold the CID, `forget` it, so nothing of it remains.
 */
export async function claimUploaded(
  env: Bindings,
  req: PublishRequest,
): Promise<{ done?: PublishOutcome; id: string; fresh?: boolean }> {
  const row = await sameRequest(env, req)
  if (!row) {
    const claimed = await claim(env, req)
    if (claimed.done) return claimed
    await mark(env, claimed.id, { step: 'upload', ciphertextCid: req.ciphertextCid })
    return { id: claimed.id, fresh: true }
  }
  if (row.status === 'minted') return { id: row.id, done: outcomeOf(row) }
  if (row.status === 'failed') {
    throw new PublishError(
      409,
      'publish_failed',
      `this request failed at step ${row.step} (${row.errorCode}) and nothing was minted; publish again with a new Idempotency-Key`,
      row.step as PublishStep,
      { id: row.id },
    )
  }
  if (row.step !== 'upload') {
    throw new PublishError(
      409,
      'publish_in_progress',
      `this request is still being processed (step ${row.step})`,
      row.step as PublishStep,
      { id: row.id },
    )
  }
  if (row.ciphertextCid !== req.ciphertextCid) {
    throw new PublishError(
      409,
      'upload_not_started',
      'the upload ticket was issued for another ciphertext; ask for a new one',
      'upload',
      { id: row.id },
    )
  }
  return { id: row.id }
}

/**
 * Direct upload, the rest: pin the CID the owner signed — which succeeds only if IPFS holds its whole
 * DAG, i.e. the uploader took exactly those bytes — then ingest, metadata and mint. Throws
 * `upload_missing` (nothing changed: upload, then ask again) when IPFS does not hold it.
 */
export async function pinUploaded(env: Bindings, id: string, req: PublishRequest): Promise<Progress> {
  try {
    await pinExisting(env, req.ciphertextCid)
  } catch (err) {
    if (err instanceof ContentMissingError) {
      throw new PublishError(
        409,
        'upload_missing',
        `IPFS does not hold ${req.ciphertextCid}: PUT the ciphertext to the upload URL with its ticket first`,
        'upload',
        { id },
      )
    }
    throw new PublishError(
      502,
      'ipfs_unavailable',
      `pinning the ciphertext failed: ${(err as Error).message}`,
      'upload',
    )
  }
  await mark(env, id, { step: 'ingest' })
  return { step: 'ingest', pinned: [req.ciphertextCid] }
}

/**
 * Keeps the checked request on the publication for the publish queue (services/publish-queue.ts). It
 * holds nothing secret: the signed declaration, signature and deadline, and the data key wrapped to
 * the enclave.
 */
export async function holdRequest(
  env: Bindings,
  id: string,
  req: PublishRequest,
  fields: Partial<typeof publications.$inferInsert> = {},
): Promise<void> {
  await mark(env, id, {
    ...fields,
    pendingRequest: JSON.stringify({ ...req, declarationBytes: base64url(req.declarationBytes) }),
  })
}

/**
 * Takes the held request off the publication, atomically: of two deliveries of one message, only one
 * finishes the publication. Undefined when no request is held (taken already, or never held).
 */
export async function takeHeldRequest(env: Bindings, id: string): Promise<PublishRequest | undefined> {
  // One batch is one transaction: the read and the clearing cannot interleave with another delivery's.
  const [read, cleared] = await env.DB.batch([
    env.DB.prepare('SELECT pending_request AS held FROM publications WHERE id = ?1').bind(id),
    env.DB.prepare(
      `UPDATE publications SET pending_request = NULL, updated_at = ?2
       WHERE id = ?1 AND pending_request IS NOT NULL AND status = 'pending' AND step = 'ingest'`,
    ).bind(id, now()),
  ])
  const held = (read.results[0] as { held: string | null } | undefined)?.held
  if (cleared.meta.changes !== 1 || !held) return undefined
  const parsed = JSON.parse(held) as Omit<PublishRequest, 'declarationBytes'> & { declarationBytes: string }
  return { ...parsed, declarationBytes: fromBase64url(parsed.declarationBytes) }
}

/**
 * Whether a finish that failed with `err` at `step` may succeed if tried again: the enclave or IPFS
 * unreachable or failing (5xx) during ingest or metadata, both of which repeat safely (the enclave
 * returns the same receipt for a re-ingest; pins are idempotent). Never at `mint`: the transaction may
 * have been sent. A refusal about the owner's data (4xx) fails the same way every time.
 */
export function mayPassOnRetry(err: unknown, step: PublishStep): boolean {
  if (step !== 'ingest' && step !== 'metadata') return false
  return !(err instanceof PublishError) || err.status >= 500
}

/**
 * Ingest, metadata and mint after a pinned upload (the publish queue's, publish-queue.ts). Unless this
 * is the last attempt, a failure that may pass (mayPassOnRetry) puts the request back on the
 * publication — still `pending` at `ingest`, the ciphertext still pinned, the error kept for the owner's
 * poll as what is being retried — and answers 'retry'. Any other failure undoes the pins and is recorded.
 */
export async function finishQueued(
  env: Bindings,
  id: string,
  req: PublishRequest,
  lastAttempt: boolean,
): Promise<'done' | 'retry'> {
  const progress: Progress = { step: 'ingest', pinned: [req.ciphertextCid] }
  try {
    await ingestAndMint(env, id, req, progress)
    return 'done'
  } catch (err) {
    if (!lastAttempt && mayPassOnRetry(err, progress.step)) {
      const failure = err instanceof PublishError ? err : undefined
      // Metadata pinned by this attempt is pinned again by the next; the ciphertext stays for it.
      await undo(env, progress.pinned.slice(1))
      await holdRequest(env, id, req, {
        status: 'pending',
        step: 'ingest',
        errorCode: failure?.code ?? 'unavailable',
        errorMessage: failure?.message ?? `step ${progress.step} failed: ${(err as Error).message}`,
      })
      return 'retry'
    }
    const failure = await recordFailure(env, id, progress, err)
    if (!(err instanceof PublishError)) console.error('publish failed', id, err)
    else if (failure.status >= 500) console.error('publish failed', id, failure.code, failure.message)
    return 'done'
  }
}

async function ingestAndMint(
  env: Bindings,
  id: string,
  req: PublishRequest,
  progress: Progress,
): Promise<PublishOutcome> {
  const ciphertextCid = req.ciphertextCid
  progress.step = 'ingest'
  await mark(env, id, { step: 'ingest' })
  const book = addressBook(env)
  let ingest: IngestResult
  let ciphertext: ReadableStream<Uint8Array>
  try {
    ciphertext = await catStream(env, ciphertextCid)
  } catch (err) {
    throw new PublishError(
      502,
      'ipfs_unavailable',
      `reading the ciphertext failed: ${(err as Error).message}`,
      'ingest',
    )
  }
  const heartbeat = setInterval(() => void mark(env, id, {}).catch(() => undefined), HEARTBEAT_MS)
  try {
    ingest = await enclaveIngest(
      env,
      {
        chainId: book.chainId,
        contract: book.contracts.DataAssetNFT,
        contentHash: req.contentHash,
        wrappedKey: req.wrappedKey,
        format: req.format,
        policy: req.policy,
        publish: { declaration: base64url(req.declarationBytes), signature: req.signature, deadline: req.deadline },
      },
      ciphertext,
    )
  } catch (err) {
    throw enclaveFailure(err)
  } finally {
    clearInterval(heartbeat)
  }
  await mark(env, id, { status: 'ingested' })

  progress.step = 'metadata'
  await mark(env, id, { step: 'metadata' })
  const declarationCid = await addSmall(env, req.declarationBytes)
  progress.pinned.push(declarationCid)
  const ingestSummary = {
    receipt: ingest.receipt,
    signature: ingest.signature,
    signer: ingest.signer,
    schema: ingest.schema,
    statistics: ingest.statistics,
  }
  // OpenSea-style metadata for wallets and storefronts: the owner's signed declaration plus the
  // enclave's signed ingest statistics (two signers, each verifiable on its own).
  const metadata = {
    ...req.declaration,
    attributes: [...req.declaration.attributes, { trait_type: 'columns', value: ingest.schema.length }],
    stillflow: {
      ...req.declaration.stillflow,
      declarationCid,
      metadataDigest: req.metadataDigest,
      schema: ingest.schema,
      ingest: ingestSummary,
    },
  }
  const metadataCid = await addSmall(env, new TextEncoder().encode(JSON.stringify(metadata)))
  progress.pinned.push(metadataCid)
  await mark(env, id, { metadataCid })

  progress.step = 'mint'
  await mark(env, id, { step: 'mint' })
  let minted: { tokenId: string; txHash: string }
  try {
    minted = await mintWithSignature(env, {
      owner: req.owner,
      contentHash: req.contentHash,
      metadataDigest: req.metadataDigest,
      deadline: req.deadline,
      signature: req.signature,
    })
  } catch (err) {
    throw mintFailure(err, req.contentHash)
  }
  const outcome: PublishOutcome = {
    id,
    status: 'minted',
    tokenId: minted.tokenId,
    txHash: minted.txHash,
    chainId: book.chainId,
    owner: req.owner,
    contentHash: req.contentHash,
    ciphertextCid,
    declarationCid,
    metadataCid,
    metadataDigest: req.metadataDigest,
    ingest: ingestSummary,
  }
  // The finished answer is kept so a replay of the same request returns it unchanged.
  await mark(env, id, {
    status: 'minted',
    step: 'mint',
    errorCode: null, // an earlier attempt's error, retried past
    errorMessage: null,
    chainId: book.chainId,
    tokenId: minted.tokenId,
    txHash: minted.txHash,
    result: JSON.stringify(outcome),
  })
  return outcome
}

/**
 * Fails a publication whose ingest or metadata step stopped making progress (see HEARTBEAT_MS), undoing
 * its pins; returns the row as it now stands. A publication at step `mint` is left alone: its
 * transaction may still be mined, and its data must then stay pinned.
 */
export async function failIfAbandoned(
  env: Bindings,
  row: typeof publications.$inferSelect,
): Promise<typeof publications.$inferSelect> {
  const running = row.status === 'pending' || row.status === 'ingested'
  if (!running || (row.step !== 'ingest' && row.step !== 'metadata') || now() - row.updatedAt < ABANDONED_MS) {
    return row
  }
  const failure = new PublishError(
    503,
    'interrupted',
    'the marketplace stopped while ingesting this dataset and dropped it, so nothing was minted: publish it again (a new request: this Idempotency-Key stays failed)',
    row.step as PublishStep,
  )
  await undo(env, [row.ciphertextCid, row.metadataCid])
  const fields = {
    status: 'failed' as const,
    pendingRequest: null,
    errorCode: failure.code,
    errorMessage: failure.message,
    result: JSON.stringify({ error: { status: failure.status, code: failure.code, message: failure.message } }),
  }
  await mark(env, row.id, fields)
  return { ...row, ...fields, updatedAt: now() }
}
