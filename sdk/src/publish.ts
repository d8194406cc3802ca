// Publishing from the owner's side (DESIGN §3 Publish, R1, R7, R11, R13): verify the enclave, encrypt in
// fixed-size chunks while hashing, compute the ciphertext CID, wrap the data key to the enclave, sign the
// EIP-712 Publish message once, and upload. Streaming throughout: a 1 GiB file never sits in memory.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { Signer } from 'ethers'
import { publishDomain, publishTypes } from '../../contracts/index'
import {
  encryptChunked,
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
   * from the worker and no long-held request. `body`: streamed through the worker in one request.
   */
  upload?: 'auto' | 'direct' | 'body'
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

async function* counted(
  source: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
  onChunk: (b: Uint8Array) => void,
) {
  for await (const chunk of source as AsyncIterable<Uint8Array>) {
    onChunk(chunk)
    yield chunk
  }
}

function base64url(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export async function publish(opts: PublishOptions): Promise<PublishResult> {
  checkDeclarationInput(opts.declaration)
  const total = opts.source.size
  if (!Number.isSafeInteger(total) || total <= 0) throw new InvalidPublicationError('the file is empty')
  const progress = (phase: PublishPhase, bytes = 0) => opts.onProgress?.({ phase, bytes, total })
  const rand = opts.randomBytes ?? ((n: number) => crypto.getRandomValues(new Uint8Array(n)))
  const now = opts.now ?? Date.now

  progress('attesting')
  const enclave =
    'trusted' in opts.enclave ? opts.enclave.trusted : await trustEnclave(opts.api, { ...opts.enclave, now })
  const owner = await opts.signer.getAddress()
  const dataKey = rand(32)
  const noncePrefix = rand(4)
  try {
    // Pass 1: plaintext hash and ciphertext CID. The same key and nonce prefix make pass 2 byte-identical.
    const hasher = (opts.createHasher ?? nobleHasher)()
    let seen = 0
    let ciphertextSize = 0
    const plaintext = counted(opts.source.open(), (b) => {
      hasher.update(b)
      seen += b.length
      progress('hashing', seen)
    })
    const cipher = opts.cipher
    const ciphertext = counted(
      encryptChunked(dataKey, plaintext, { noncePrefix, cipher }),
      (b) => (ciphertextSize += b.length),
    )
    const ciphertextCid = await (opts.computeCid ?? kuboCidV1)(ciphertext)
    if (seen !== total)
      throw new InvalidPublicationError(`the file changed while it was read (${seen} of ${total} bytes)`)
    const contentHash = `0x${bytesToHex(hasher.digest())}`

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
        contentHash,
        ciphertextCid,
        ciphertextSize,
        plaintextSize: total,
        format: opts.format,
        tags: opts.declaration.tags ?? [],
        policy: opts.declaration.policy ?? ({ mode: 'dp' } as PrivacyPolicy),
        lawfulBasis: opts.declaration.lawfulBasis,
      },
    }
    const declarationBytes = encodeDeclaration(declaration)
    const metadataDigest = `0x${bytesToHex(sha256(declarationBytes))}`
    const wrappedKey = await wrapDataKey(dataKey, enclave.clusterPublicKey, {
      chainId: enclave.chainId,
      contract: nft,
      contentHash,
    })

    progress('signing')
    const deadline = Math.floor(now() / 1000) + (opts.validForSeconds ?? 3600)
    const signature = await opts.signer.signTypedData(publishDomain(enclave.chainId, nft), publishTypes, {
      owner,
      contentHash,
      metadataDigest,
      deadline,
    })
    const manifest = { declaration: base64url(declarationBytes), signature, deadline, wrappedKey }

    // Pass 2: the upload itself, streamed with backpressure: the next chunk is read and encrypted only
    // when the socket has taken the last, so a few 1 MiB chunks are in memory whatever the file size.
    // Every streamed upload is sent with `redirect: 'error'`: with the default 'follow', Node's fetch
    // tees the body to be able to replay it and buffers the unread branch — the whole file
    // (nodejs/undici#4058; measured: 1.1 GiB RSS uploading 1 GiB, 190 MiB with 'error').
    let sent = 0
    const upload = () =>
      toReadableStream(
        counted(encryptChunked(dataKey, opts.source.open(), { noncePrefix, cipher }), (b) => {
          sent += b.length
          progress('uploading', Math.min(total, Math.round((sent / ciphertextSize) * total)))
        }),
      )
    const headers = {
      'idempotency-key': opts.idempotencyKey ?? bytesToHex(rand(16)),
      'x-stillflow-manifest': base64url(new TextEncoder().encode(JSON.stringify(manifest))),
    }
    const mode = opts.upload ?? 'auto'
    let result: PublishResult | undefined
    if (mode !== 'body') {
      try {
        result = await publishDirect(opts, headers, ciphertextSize, upload, () => progress('ingesting', total))
      } catch (err) {
        if (!(mode === 'auto' && err instanceof ApiRequestError && err.code === 'direct_upload_unavailable')) throw err
      }
    }
    result ??= await opts.api.request<PublishResult>('/assets', {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(ciphertextSize) },
      body: upload(),
      redirect: 'error',
      // Node's fetch (undici) streams request bodies only in half-duplex mode.
      ...({ duplex: 'half' } as object),
    })
    progress('done', total)
    return result
  } finally {
    dataKey.fill(0)
  }
}

interface DirectStart {
  id: string
  upload: { url: string; ticket: string; size: number; expiresAt: string }
}

interface PublicationView {
  id: string
  status: 'pending' | 'ingested' | 'minted' | 'failed'
  step: string
  error?: { code: string; message: string; status?: number }
  result?: PublishResult
}

/** A finished publish answers 200 with its outcome instead of 202 (a replay of a minted request). */
const isOutcome = (x: unknown): x is PublishResult => (x as PublishResult).status === 'minted'

/**
 * The direct path: ask for a ticket (the worker checks the whole manifest first), PUT the ciphertext to
 * IPFS's uploader, tell the worker it is there, then poll the publication until it is minted or failed.
 */
async function publishDirect(
  opts: PublishOptions,
  headers: Record<string, string>,
  size: number,
  ciphertext: () => ReadableStream<Uint8Array>,
  onIngesting: () => void,
): Promise<PublishResult> {
  const start = await opts.api.request<DirectStart | PublishResult>('/assets', {
    method: 'POST',
    headers: { ...headers, 'x-stillflow-upload': 'direct' },
  })
  if (isOutcome(start)) return start
  const res = await (opts.fetch ?? fetch)(start.upload.url, {
    method: 'PUT',
    headers: {
      'content-type': 'application/octet-stream',
      'content-length': String(size),
      'x-stillflow-ticket': start.upload.ticket,
    },
    body: ciphertext(),
    redirect: 'error',
    ...({ duplex: 'half' } as object),
  })
  const text = await res.text()
  if (!res.ok) {
    let err: { code?: string; message?: string } | undefined
    try {
      err = (JSON.parse(text) as { error?: typeof err }).error
    } catch {
      err = undefined
    }
    throw new ApiRequestError(res.status, err?.code ?? `http_${res.status}`, err?.message ?? text.slice(0, 200))
  }
  const committed = await opts.api.request<{ id: string } | PublishResult>('/assets', {
    method: 'POST',
    headers: { ...headers, 'x-stillflow-upload': 'uploaded' },
  })
  if (isOutcome(committed)) return committed
  onIngesting()
  const interval = opts.pollIntervalMs ?? 1000
  for (;;) {
    const p = await opts.api.request<PublicationView>(`/publications/${committed.id}`)
    if (p.status === 'minted' && p.result) return p.result
    if (p.status === 'failed') {
      const e = p.error ?? { code: 'publish_failed', message: `the publish failed at step ${p.step}` }
      throw new ApiRequestError(e.status ?? 422, e.code, e.message, { error: { ...e, step: p.step } })
    }
    await new Promise((r) => setTimeout(r, interval))
  }
}
