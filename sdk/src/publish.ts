// Publishing from the owner's side (DESIGN §3 Publish, R1, R7, R11, R13): verify the enclave, encrypt in
// fixed-size chunks while hashing, compute the ciphertext CID, wrap the data key to the enclave, sign the
// EIP-712 Publish message once, and upload. Streaming throughout: a 1 GiB file never sits in memory.
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import type { Signer } from 'ethers'
import { publishDomain, publishTypes } from '../../contracts/index'
import { encryptChunked, toReadableStream, wrapDataKey, type PrivacyPolicy } from '../../tee-sim/src/index'
import type { ApiClient } from './api'
import { kuboCidV1 } from './cid'
import {
  checkDeclarationInput,
  DECLARATION_VERSION,
  encodeDeclaration,
  type Declaration,
  type DeclarationInput,
} from './declaration'
import { trustEnclave, type TrustEnclaveOptions } from './enclave'
import { InvalidPublicationError } from './errors'

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

export type PublishPhase = 'attesting' | 'hashing' | 'signing' | 'uploading' | 'done'
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
  enclave: Omit<TrustEnclaveOptions, 'now'>
  /** Seconds the signature stays valid (default 3600). */
  validForSeconds?: number
  /** Retries with the same key never publish twice (default: random). */
  idempotencyKey?: string
  onProgress?: (p: PublishProgress) => void
  createHasher?: () => Hasher
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
  const enclave = await trustEnclave(opts.api, { ...opts.enclave, now })
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
    const ciphertext = counted(encryptChunked(dataKey, plaintext, { noncePrefix }), (b) => (ciphertextSize += b.length))
    const ciphertextCid = await kuboCidV1(ciphertext)
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

    // Pass 2: the upload itself, streamed.
    let sent = 0
    const body = toReadableStream(
      counted(encryptChunked(dataKey, opts.source.open(), { noncePrefix }), (b) => {
        sent += b.length
        progress('uploading', Math.min(total, Math.round((sent / ciphertextSize) * total)))
      }),
    )
    const result = await opts.api.request<PublishResult>('/assets', {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(ciphertextSize),
        'idempotency-key': opts.idempotencyKey ?? bytesToHex(rand(16)),
        'x-stillflow-manifest': base64url(new TextEncoder().encode(JSON.stringify(manifest))),
      },
      body,
      // Node's fetch (undici) streams request bodies only in half-duplex mode.
      ...({ duplex: 'half' } as object),
    })
    progress('done', total)
    return result
  } finally {
    dataKey.fill(0)
  }
}
