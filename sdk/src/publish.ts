// Publishing from the owner's side (DESIGN §3 Publish, R1, R7, R11, R13): verify the enclave, encrypt in
// fixed-size chunks while hashing, compute the ciphertext CID, wrap the data key to the enclave, sign the
// EIP-712 Publish message once, and upload. Streaming throughout: a 1 GiB file never sits in memory.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { Signer } from 'ethers'
import { publishDomain, publishTypes, uploadIntentTypes } from '../../contracts/index'
import {
  base64url,
  chunkedCiphertextLength,
  encryptChunked,
  iterateBytes,
  toReadableStream,
  wrapDataKey,
  type ChunkCipherFactory,
  type PrivacyPolicy,
} from '../../tee-sim/src/index'
import type { ApiClient } from './api'
import { kuboCidV1 } from './cid'
import {
  checkDeclarationInput,
  DECLARATION_VERSION,
  encodeDeclaration,
  type Declaration,
  type DeclarationInput,
} from './declaration'
import { trustEnclave, type TrustedEnclave, type TrustEnclaveOptions } from './enclave'
import { ApiRequestError, InvalidPublicationError } from './errors'
import { feeding, finishUploaded, Handoff, isOutcome, putCiphertext, type UploadTarget } from './upload'

/** A dataset that can be read from the start more than once (a file path, a browser File). */
export interface PublishSource {
  size: number
  open(): AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>
}

/** An incremental SHA-256; node:crypto is much faster than the portable default. */
export interface Hasher {
  update(bytes: Uint8Array): void
  digest(): Uint8Array
}

export type PublishPhase = 'attesting' | 'hashing' | 'signing' | 'uploading' | 'ingesting' | 'done'
export interface PublishProgress {
  phase: PublishPhase
  bytes: number
  total: number
  /**
   * While `ingesting`: the marketplace could not reach the enclave or IPFS and is trying again (it fails
   * the publication after a few attempts); reported once per change, cleared by the next phase.
   */
  retrying?: { code: string; message: string }
  /**
   * From `ingesting` on: the publication's id at the marketplace (`GET /api/publications/{id}`). The upload
   * is complete and signed then, so the marketplace finishes it even if this client stops waiting.
   */
  publication?: string
}

export interface PublishOptions {
  api: ApiClient
  signer: Signer
  source: PublishSource
  format: 'csv' | 'jsonl'
  declaration: DeclarationInput
  /**
   * How to check the enclave (attestation + EIP-712 measurement approval on the client's own chain
   * access), or `{ trusted }`: an enclave this client checked itself moments ago — e.g. a page that
   * verified it through the user's wallet before handing the file to a Web Worker, which cannot reach
   * the wallet.
   */
  enclave: Omit<TrustEnclaveOptions, 'now'> | { trusted: TrustedEnclave }
  /** Seconds the signature stays valid (default 3600). */
  validForSeconds?: number
  /** Retries with the same key never publish twice (default: random). */
  idempotencyKey?: string
  /**
   * How the ciphertext reaches IPFS. `direct` (the default when the marketplace offers it): straight to
   * IPFS's uploader with a single-use ticket, then the publication is polled until minted — no size cap
   * from the worker and no long-held request; two passes over the file, one signature. `stream`: the same
   * uploader, in one pass — encrypt once, upload and compute the CID together — at the cost of a second
   * signature (an UploadIntent, before the CID is known); best where the client holds the key (the CLI).
   * `body`: streamed through the worker in one request.
   */
  upload?: 'auto' | 'direct' | 'stream' | 'body'
  /** fetch for the direct upload's PUT (default: global fetch). */
  fetch?: typeof fetch
  /** Milliseconds between polls of a direct publication (default 1000). */
  pollIntervalMs?: number
  onProgress?: (p: PublishProgress) => void
  createHasher?: () => Hasher
  /** AES-256-GCM backend for the chunks (default WebCrypto; `nodeBackends` has node:crypto). */
  cipher?: ChunkCipherFactory
  /** The ciphertext's Kubo CIDv1 (default `kuboCidV1`; `nodeBackends` has a faster one). */
  computeCid?: (content: AsyncIterable<Uint8Array>) => Promise<string>
  now?: () => number
  randomBytes?: (n: number) => Uint8Array
}

export interface PublishResult {
  status: 'minted'
  tokenId: string
  txHash: string
  chainId: number
  contentHash: string
  ciphertextCid: string
  metadataCid: string
  metadataDigest: string
  ingest: unknown
}

const nobleHasher = (): Hasher => {
  const h = sha256.create()
  return { update: (b) => void h.update(b), digest: () => h.digest() }
}

async function* counted(source: AsyncIterable<Uint8Array>, onChunk: (b: Uint8Array) => void) {
  for await (const chunk of source) {
    onChunk(chunk)
    yield chunk
  }
}

/** What a publish has settled before the bytes move: shared by the one-pass and two-pass paths. */
interface Session {
  opts: PublishOptions
  enclave: TrustedEnclave
  owner: string
  total: number
  dataKey: Uint8Array
  noncePrefix: Uint8Array
  rand: (n: number) => Uint8Array
  now: () => number
  progress: (phase: PublishPhase, bytes?: number, extra?: Pick<PublishProgress, 'retrying' | 'publication'>) => void
}

export async function publish(opts: PublishOptions): Promise<PublishResult> {
  checkDeclarationInput(opts.declaration)
  const total = opts.source.size
  if (!Number.isSafeInteger(total) || total <= 0) throw new InvalidPublicationError('the file is empty')
  const progress = (phase: PublishPhase, bytes = 0, extra: Pick<PublishProgress, 'retrying' | 'publication'> = {}) =>
    opts.onProgress?.({ phase, bytes, total, ...extra })
  const rand = opts.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)))
  const now = opts.now ?? Date.now

  progress('attesting')
  const enclave =
    'trusted' in opts.enclave ? opts.enclave.trusted : await trustEnclave(opts.api, { ...opts.enclave, now })
  const s: Session = {
    opts,
    enclave,
    owner: await opts.signer.getAddress(),
    total,
    dataKey: rand(32),
    noncePrefix: rand(4),
    rand,
    now,
    progress,
  }
  try {
    const mode = opts.upload ?? 'auto'
    let result = mode === 'stream' ? await publishOnePass(s) : undefined
    // A marketplace without one-pass tickets still takes the two-pass upload.
    result ??= await publishTwoPass(s, mode === 'stream' ? 'auto' : mode)
    progress('done', total)
    return result
  } finally {
    s.dataKey.fill(0)
  }
}

/**
 * The file as read, each chunk shown to `onChunk` with the running byte count. A file that turns out
 * longer or shorter than `source.size` is refused as it is read, before encryptChunked (told that size,
 * so it seals whole chunks without a copy) could seal a final chunk.
 */
async function* sized(s: Session, onChunk: (chunk: Uint8Array, bytes: number) => void = () => {}) {
  let bytes = 0
  const changed = () => new InvalidPublicationError(`the file changed while it was read (${bytes} of ${s.total} bytes)`)
  // iterateBytes: a browser File's stream is read through a reader (not every browser iterates streams).
  for await (const chunk of iterateBytes(s.opts.source.open())) {
    bytes += chunk.length
    if (bytes > s.total) throw changed()
    onChunk(chunk, bytes)
    yield chunk
  }
  if (bytes !== s.total) throw changed()
}

/** The plaintext stream, hashed as it is read; `onRead` sees the running byte count. */
function hashed(s: Session, onRead?: (bytes: number) => void) {
  const hasher = (s.opts.createHasher ?? nobleHasher)()
  const plaintext = sized(s, (chunk, bytes) => {
    hasher.update(chunk)
    onRead?.(bytes)
  })
  return { plaintext, digest: () => `0x${bytesToHex(hasher.digest())}` }
}

const encrypted = (s: Session, plaintext: AsyncIterable<Uint8Array>) =>
  encryptChunked(s.dataKey, plaintext, { noncePrefix: s.noncePrefix, cipher: s.opts.cipher, size: s.total })

/**
 * One pass (R1; issue 5's throughput): an UploadIntent signature buys a ticket for exactly this many
 * bytes, then each chunk is encrypted once and goes both to the uploader and to the client's own CID
 * computation; the CID the uploader stored must be the one computed here before the owner signs it.
 * Two signatures instead of one, so it suits keys the client holds (the CLI); a browser wallet would
 * prompt twice. Undefined when the marketplace offers no direct uploads (the caller falls back).
 */
async function publishOnePass(s: Session): Promise<PublishResult | undefined> {
  const { opts, enclave } = s
  const size = chunkedCiphertextLength(s.total)
  const intent = {
    owner: s.owner,
    size,
    nonce: `0x${bytesToHex(s.rand(32))}`,
    deadline: Math.floor(s.now() / 1000) + ONE_PASS_TICKET_S,
  }
  const signature = await opts.signer.signTypedData(
    publishDomain(enclave.chainId, enclave.contracts.DataAssetNFT),
    uploadIntentTypes,
    intent,
  )
  let target: UploadTarget
  try {
    ;({ upload: target } = await opts.api.request<{ upload: UploadTarget }>('/uploads', {
      method: 'POST',
      json: { ...intent, signature },
    }))
  } catch (err) {
    if (err instanceof ApiRequestError && (err.code === 'direct_upload_unavailable' || err.status === 404)) {
      return undefined
    }
    throw err
  }

  const { plaintext, digest } = hashed(s)
  const feed = new Handoff<Uint8Array>()
  const cidComputed = (opts.computeCid ?? kuboCidV1)(feed)
  let sent = 0
  const ciphertext = counted(feeding(encrypted(s, plaintext), feed), (b) => {
    sent += b.length
    s.progress('uploading', Math.min(s.total, Math.round((sent / size) * s.total)))
  })
  let stored: { cid: string }
  try {
    stored = await putCiphertext(opts, target, size, toReadableStream(ciphertext))
  } catch (err) {
    feed.close(err)
    await cidComputed.catch(() => undefined)
    throw err
  }
  const ciphertextCid = await cidComputed
  if (stored.cid !== ciphertextCid) {
    throw new InvalidPublicationError(
      `IPFS stored ${stored.cid}, but the ciphertext sent has CID ${ciphertextCid}; nothing was published`,
    )
  }
  const headers = await signManifest(s, { contentHash: digest(), ciphertextCid, ciphertextSize: size })
  return finishUploaded(opts, headers, (extra) => s.progress('ingesting', s.total, extra))
}

/** How long a one-pass ticket may take to start the upload. */
const ONE_PASS_TICKET_S = 600

/**
 * Two passes (one signature): pass 1 hashes the plaintext and computes the ciphertext CID, the owner
 * signs the manifest naming it, and pass 2 encrypts again — byte-identical, same key and nonce prefix —
 * while uploading, directly to the uploader with a ticket or in the request body.
 */
async function publishTwoPass(s: Session, mode: 'auto' | 'direct' | 'body'): Promise<PublishResult> {
  const { opts } = s
  const { plaintext, digest } = hashed(s, (bytes) => s.progress('hashing', bytes))
  let ciphertextSize = 0
  const ciphertext = counted(encrypted(s, plaintext), (b) => (ciphertextSize += b.length))
  const ciphertextCid = await (opts.computeCid ?? kuboCidV1)(ciphertext)
  const headers = await signManifest(s, { contentHash: digest(), ciphertextCid, ciphertextSize })

  // Pass 2: the upload itself, streamed with backpressure: the next chunk is read and encrypted only
  // when the socket has taken the last, so a few 1 MiB chunks are in memory whatever the file size.
  let sent = 0
  const upload = () =>
    toReadableStream(
      counted(encrypted(s, sized(s)), (b) => {
        sent += b.length
        s.progress('uploading', Math.min(s.total, Math.round((sent / ciphertextSize) * s.total)))
      }),
    )
  if (mode !== 'body') {
    try {
      return await publishDirect(opts, headers, ciphertextSize, upload, (extra) =>
        s.progress('ingesting', s.total, extra),
      )
    } catch (err) {
      if (!(mode === 'auto' && err instanceof ApiRequestError && err.code === 'direct_upload_unavailable')) throw err
    }
  }
  return opts.api.request<PublishResult>('/assets', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(ciphertextSize) },
    body: upload(),
    // See putCiphertext: a streamed body is never sent with redirect 'follow'.
    redirect: 'error',
    ...({ duplex: 'half' } as object),
  })
}

/** Builds the declaration, wraps the data key to the enclave, and has the owner sign Publish once. */
async function signManifest(
  s: Session,
  c: { contentHash: string; ciphertextCid: string; ciphertextSize: number },
): Promise<Record<string, string>> {
  const { opts, enclave, owner, total } = s
  const nft = enclave.contracts.DataAssetNFT
  const declaration: Declaration = {
    name: opts.declaration.name.trim(),
    description: (opts.declaration.description ?? '').trim(),
    ...(opts.declaration.image ? { image: opts.declaration.image } : {}),
    attributes: [
      { trait_type: 'format', value: opts.format },
      { trait_type: 'privacy', value: (opts.declaration.policy ?? { mode: 'dp' }).mode },
      { trait_type: 'size (bytes)', value: total },
    ],
    stillflow: {
      version: DECLARATION_VERSION,
      owner,
      chainId: enclave.chainId,
      dataAssetNft: nft,
      contentHash: c.contentHash,
      ciphertextCid: c.ciphertextCid,
      ciphertextSize: c.ciphertextSize,
      plaintextSize: total,
      format: opts.format,
      tags: opts.declaration.tags ?? [],
      policy: opts.declaration.policy ?? ({ mode: 'dp' } as PrivacyPolicy),
      lawfulBasis: opts.declaration.lawfulBasis,
    },
  }
  const declarationBytes = encodeDeclaration(declaration)
  const metadataDigest = `0x${bytesToHex(sha256(declarationBytes))}`
  const wrappedKey = await wrapDataKey(s.dataKey, enclave.clusterPublicKey, {
    chainId: enclave.chainId,
    contract: nft,
    contentHash: c.contentHash,
  })

  s.progress('signing')
  const deadline = Math.floor(s.now() / 1000) + (opts.validForSeconds ?? 3600)
  const signature = await opts.signer.signTypedData(publishDomain(enclave.chainId, nft), publishTypes, {
    owner,
    contentHash: c.contentHash,
    metadataDigest,
    deadline,
  })
  const manifest = { declaration: base64url(declarationBytes), signature, deadline, wrappedKey }
  return {
    'idempotency-key': opts.idempotencyKey ?? bytesToHex(s.rand(16)),
    'x-stillflow-manifest': base64url(new TextEncoder().encode(JSON.stringify(manifest))),
  }
}

interface DirectStart {
  id: string
  upload: UploadTarget
}

/**
 * The direct path: ask for a ticket (the worker checks the whole manifest first), PUT the ciphertext to
 * IPFS's uploader, tell the worker it is there, then poll the publication until it is minted or failed.
 */
async function publishDirect(
  opts: PublishOptions,
  headers: Record<string, string>,
  size: number,
  ciphertext: () => ReadableStream<Uint8Array>,
  onIngesting: (extra: Pick<PublishProgress, 'retrying' | 'publication'>) => void,
): Promise<PublishResult> {
  const start = await opts.api.request<DirectStart | PublishResult>('/assets', {
    method: 'POST',
    headers: { ...headers, 'x-stillflow-upload': 'direct' },
  })
  if (isOutcome(start)) return start
  await putCiphertext(opts, start.upload, size, ciphertext())
  return finishUploaded(opts, headers, onIngesting)
}
