// The chunked AES-256-GCM stream format for datasets: fixed-size chunks whose nonce and AAD carry the
// chunk index and a final flag, so chunks cannot be reordered, dropped, truncated or extended.
// Construction: the STREAM online-AE scheme of Hoang, Reyhanitabar, Rogaway & Vizár (CRYPTO 2015),
// instantiated with AES-256-GCM (NIST SP 800-38D) and a fresh random 256-bit key per dataset.
//
// Layout:  header (16 bytes) ‖ chunk_0 ‖ … ‖ chunk_n
//   header  = "SFAE" ‖ version 0x01 ‖ 0x000000 ‖ uint32be(chunkSize) ‖ noncePrefix (4 random bytes)
//   chunk_i = AES-256-GCM(key, nonce_i, aad_i, plaintext_i) (ciphertext ‖ 16-byte tag)
//   nonce_i = noncePrefix ‖ uint64be(i)
//   aad_i   = header ‖ uint64be(i) ‖ final_i (0x01 for the last chunk, else 0x00)
// Every chunk but the last holds exactly chunkSize plaintext bytes; the last holds 1..chunkSize
// (0 only when the whole plaintext is empty).
import { assertBytes, concatBytes, toArrayBuffer, uintToBytes } from './bytes'
import { iterateBytes, type ByteSource } from './byte-source'
import { CiphertextIntegrityError, InvalidInputError } from './errors'

export const CHUNKED_MAGIC = new Uint8Array([0x53, 0x46, 0x41, 0x45]) // "SFAE"
export const CHUNKED_VERSION = 1
export const CHUNKED_HEADER_LENGTH = 16
export const GCM_TAG_LENGTH = 16
export const DEFAULT_CHUNK_SIZE = 1 << 20
export const MAX_CHUNK_SIZE = 1 << 24

/** Bytes in one array, or as pieces that concatenate to them (in order): pieces spare a backend a copy. */
export type Parts = Uint8Array | readonly Uint8Array[]

/**
 * One AES-256-GCM key, bound once; seals to ciphertext ‖ tag, opens to the plaintext only once the tag
 * verified (throws otherwise).
 */
export interface ChunkCipher {
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Promise<Parts> | Parts
  open(nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Promise<Parts> | Parts
}
export type ChunkCipherFactory = (key: Uint8Array) => Promise<ChunkCipher> | ChunkCipher

/** Portable backend: WebCrypto (browsers, workerd, Node). The enclave plugs in node:crypto. */
export const webCryptoChunkCipher: ChunkCipherFactory = async (key) => {
  const k = await crypto.subtle.importKey('raw', toArrayBuffer(assertBytes(key, 32, 'data key')), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ])
  return {
    async seal(iv, aad, pt) {
      return new Uint8Array(
        await crypto.subtle.encrypt(
          { name: 'AES-GCM', iv: toArrayBuffer(iv), additionalData: toArrayBuffer(aad) },
          k,
          toArrayBuffer(pt),
        ),
      )
    },
    async open(iv, aad, ct) {
      return new Uint8Array(
        await crypto.subtle.decrypt(
          { name: 'AES-GCM', iv: toArrayBuffer(iv), additionalData: toArrayBuffer(aad) },
          k,
          toArrayBuffer(ct),
        ),
      )
    },
  }
}

export interface ChunkedHeader {
  chunkSize: number
  noncePrefix: Uint8Array
  bytes: Uint8Array
}

export function encodeHeader(chunkSize: number, noncePrefix: Uint8Array): Uint8Array {
  if (!Number.isInteger(chunkSize) || chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE) {
    throw new InvalidInputError(`chunkSize must be an integer in 1..${MAX_CHUNK_SIZE}`)
  }
  return concatBytes(
    CHUNKED_MAGIC,
    new Uint8Array([CHUNKED_VERSION, 0, 0, 0]),
    uintToBytes(chunkSize, 4),
    assertBytes(noncePrefix, 4, 'noncePrefix'),
  )
}

export function decodeHeader(bytes: Uint8Array): ChunkedHeader {
  if (bytes.length < CHUNKED_HEADER_LENGTH) throw new CiphertextIntegrityError('ciphertext is shorter than its header')
  const h = bytes.subarray(0, CHUNKED_HEADER_LENGTH)
  if (h[0] !== 0x53 || h[1] !== 0x46 || h[2] !== 0x41 || h[3] !== 0x45)
    throw new CiphertextIntegrityError('not a Stillflow chunked ciphertext (bad magic)')
  if (h[4] !== CHUNKED_VERSION || h[5] !== 0 || h[6] !== 0 || h[7] !== 0)
    throw new CiphertextIntegrityError(`unsupported chunked ciphertext version ${h[4]}`)
  const chunkSize = ((h[8] << 24) >>> 0) + (h[9] << 16) + (h[10] << 8) + h[11]
  if (chunkSize < 1 || chunkSize > MAX_CHUNK_SIZE)
    throw new CiphertextIntegrityError('chunk size in header is out of range')
  return { chunkSize, noncePrefix: h.slice(12, 16), bytes: h.slice() }
}

function nonceFor(prefix: Uint8Array, index: number): Uint8Array {
  const n = new Uint8Array(12)
  n.set(prefix, 0)
  new DataView(n.buffer).setBigUint64(4, BigInt(index))
  return n
}

function aadFor(header: Uint8Array, index: number, final: boolean): Uint8Array {
  const a = new Uint8Array(CHUNKED_HEADER_LENGTH + 9)
  a.set(header, 0)
  new DataView(a.buffer).setBigUint64(CHUNKED_HEADER_LENGTH, BigInt(index))
  a[CHUNKED_HEADER_LENGTH + 8] = final ? 1 : 0
  return a
}

export interface EncryptOptions {
  chunkSize?: number
  /** 4 bytes; defaults to crypto.getRandomValues. Inject for deterministic tests. */
  noncePrefix?: Uint8Array
  cipher?: ChunkCipherFactory
  /**
   * The plaintext's exact length, when the caller knows it (a file). Which chunk is the last is then known
   * without reading past it, so a whole chunk lying in one source piece is sealed where it lies instead
   * of through the staging buffer (a copy and a wipe of every byte, issue 5's publish throughput); the
   * last chunk is still buffered and sealed only at the source's end. A source that yields more or fewer
   * bytes is refused (InvalidInputError) before that final chunk is sealed. The output is the same
   * either way.
   */
  size?: number
}

/**
 * Encrypts a plaintext stream; yields the header, then each chunk's ciphertext ‖ tag, in one piece or
 * several (as the cipher seals it: pieces spare a backend a copy). Holds at most one chunk of
 * plaintext at a time.
 *
 * @example
 * const key = crypto.getRandomValues(new Uint8Array(32))
 * for await (const part of encryptChunked(key, file.stream(), { size: file.size })) upload(part)
 */
export async function* encryptChunked(
  key: Uint8Array,
  source: ByteSource,
  opts: EncryptOptions = {},
): AsyncGenerator<Uint8Array> {
  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE
  const noncePrefix = opts.noncePrefix ?? crypto.getRandomValues(new Uint8Array(4))
  const header = encodeHeader(chunkSize, noncePrefix)
  const size = opts.size
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw new InvalidInputError('size must be a non-negative safe integer')
  }
  // With a known size: the index of the last chunk (0 for an empty plaintext, which is one empty chunk).
  const last = size === undefined ? undefined : Math.max(0, Math.ceil(size / chunkSize) - 1)
  const cipher = await (opts.cipher ?? webCryptoChunkCipher)(key)
  let index = 0
  const seal = async (plaintext: Uint8Array, final: boolean) =>
    pieces(await cipher.seal(nonceFor(noncePrefix, index), aadFor(header, index++, final), plaintext))
  yield header
  let pending = new Uint8Array(chunkSize)
  let fill = 0
  let seen = 0
  for await (const piece of iterateBytes(source)) {
    seen += piece.length
    if (size !== undefined && seen > size) {
      throw new InvalidInputError(`the plaintext is longer than its stated size of ${size} bytes`)
    }
    let off = 0
    while (off < piece.length) {
      if (fill === chunkSize) {
        // More plaintext follows, so the buffered chunk is not the last one (with a size, the last chunk
        // cannot be followed: more plaintext after it was refused above).
        yield* await seal(pending, false)
        pending.fill(0)
        fill = 0
      }
      if (last !== undefined && index < last && fill === 0 && piece.length - off >= chunkSize) {
        yield* await seal(piece.subarray(off, off + chunkSize), false)
        off += chunkSize
        continue
      }
      const take = Math.min(chunkSize - fill, piece.length - off)
      pending.set(piece.subarray(off, off + take), fill)
      fill += take
      off += take
    }
  }
  if (size !== undefined && seen < size) {
    throw new InvalidInputError(`the plaintext ended after ${seen} of its stated ${size} bytes`)
  }
  // The last chunk is sealed only once the source has ended, so a source longer than stated never yields a
  // complete stream.
  yield* await seal(pending.subarray(0, fill), true)
  pending.fill(0)
  pending = new Uint8Array(0)
}

const pieces = (parts: Parts): readonly Uint8Array[] => (parts instanceof Uint8Array ? [parts] : parts)

export interface DecryptOptions {
  cipher?: ChunkCipherFactory
  /** Refuse headers announcing larger chunks (memory bound). */
  maxChunkSize?: number
}

/**
 * Decrypts and authenticates a chunked ciphertext stream, yielding plaintext chunk by chunk. Throws
 * CiphertextIntegrityError on any tampered, reordered, missing, truncated or appended chunk. A chunk
 * is only yielded after its tag verified; a stream that ends without a final chunk throws at the end,
 * so consumers must treat results as provisional until iteration completes.
 */
export async function* decryptChunked(
  key: Uint8Array,
  source: ByteSource,
  opts: DecryptOptions = {},
): AsyncGenerator<Uint8Array> {
  const cipher = await (opts.cipher ?? webCryptoChunkCipher)(key)
  let header: ChunkedHeader | undefined
  let frame = 0
  let buf = new Uint8Array(64)
  let len = 0
  let index = 0
  const open = async (ct: Uint8Array, final: boolean): Promise<Parts> => {
    try {
      return await cipher.open(nonceFor(header!.noncePrefix, index), aadFor(header!.bytes, index, final), ct)
    } catch (cause) {
      throw new CiphertextIntegrityError(`chunk ${index} does not authenticate`, {
        cause,
        details: final
          ? 'as the final chunk: the stream was truncated, extended or tampered with'
          : 'tampered, reordered or from another stream',
      })
    }
  }
  for await (const piece of iterateBytes(source)) {
    if (len + piece.length > buf.length) {
      const grown = new Uint8Array(Math.max(buf.length * 2, len + piece.length))
      grown.set(buf.subarray(0, len))
      buf = grown
    }
    buf.set(piece, len)
    len += piece.length
    if (!header) {
      if (len < CHUNKED_HEADER_LENGTH) continue
      header = decodeHeader(buf)
      if (header.chunkSize > (opts.maxChunkSize ?? MAX_CHUNK_SIZE))
        throw new CiphertextIntegrityError('chunk size exceeds the allowed maximum')
      frame = header.chunkSize + GCM_TAG_LENGTH
      buf.copyWithin(0, CHUNKED_HEADER_LENGTH, len)
      len -= CHUNKED_HEADER_LENGTH
    }
    // Strictly more than one frame buffered: the first frame cannot be the final one.
    let start = 0
    while (len - start > frame) {
      yield* pieces(await open(buf.subarray(start, start + frame), false))
      index++
      start += frame
    }
    if (start > 0) {
      buf.copyWithin(0, start, len)
      len -= start
    }
  }
  // The byte count tells an empty or cut-off fetch (0–15 bytes arrived) from a wrong file.
  if (!header) throw new CiphertextIntegrityError(`ciphertext is shorter than its header (${len} bytes arrived)`)
  if (len < GCM_TAG_LENGTH) throw new CiphertextIntegrityError('ciphertext ends without a final chunk (truncated)')
  if (len === GCM_TAG_LENGTH && index > 0) throw new CiphertextIntegrityError('empty final chunk is not canonical')
  yield* pieces(await open(buf.subarray(0, len), true))
}

/** Ciphertext length for a plaintext length (header + one tag per chunk). */
export function chunkedCiphertextLength(plaintextLength: number, chunkSize = DEFAULT_CHUNK_SIZE): number {
  const chunks = Math.max(1, Math.ceil(plaintextLength / chunkSize))
  return CHUNKED_HEADER_LENGTH + plaintextLength + chunks * GCM_TAG_LENGTH
}
