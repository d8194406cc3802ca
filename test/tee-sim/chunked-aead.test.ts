import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { collectBytes } from '../../tee-sim/src/byte-source'
import {
  CHUNKED_HEADER_LENGTH,
  GCM_TAG_LENGTH,
  chunkedCiphertextLength,
  decryptChunked,
  encryptChunked,
  webCryptoChunkCipher,
} from '../../tee-sim/src/chunked-aead'
import { nodeChunkCipher } from '../../tee-sim/src/enclave/node-aead'
import { CiphertextIntegrityError, InvalidInputError } from '../../tee-sim/src/errors'
import { toReadableStream } from '../../tee-sim/src/byte-source'

const key = new Uint8Array(32).fill(1)
const prefix = new Uint8Array([1, 2, 3, 4])

async function enc(pt: Uint8Array, chunkSize: number, pieces = 1): Promise<Uint8Array> {
  const step = Math.max(1, Math.ceil(pt.length / pieces))
  const parts: Uint8Array[] = []
  for (let o = 0; o < pt.length; o += step) parts.push(pt.subarray(o, o + step))
  return collectBytes(encryptChunked(key, parts, { chunkSize, noncePrefix: prefix }))
}
const dec = (ct: Uint8Array | Uint8Array[], k = key, cipher = webCryptoChunkCipher) =>
  collectBytes(decryptChunked(k, Array.isArray(ct) ? ct : [ct], { cipher }))

/** Splits a ciphertext into header and frames of chunkSize + tag. */
function frames(ct: Uint8Array, chunkSize: number): { header: Uint8Array; chunks: Uint8Array[] } {
  const chunks: Uint8Array[] = []
  for (let o = CHUNKED_HEADER_LENGTH; o < ct.length; o += chunkSize + GCM_TAG_LENGTH)
    chunks.push(ct.slice(o, o + chunkSize + GCM_TAG_LENGTH))
  return { header: ct.slice(0, CHUNKED_HEADER_LENGTH), chunks }
}
const join = (...parts: Uint8Array[]) => collectBytes(parts)

describe('chunked AES-256-GCM', () => {
  it('round-trips any plaintext, any chunk size, any input split and any ciphertext split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 50 }),
        async (pt, chunkSize, pieces, ctSplit) => {
          const ct = await enc(pt, chunkSize, pieces)
          expect(ct.length).toBe(chunkedCiphertextLength(pt.length, chunkSize))
          const split: Uint8Array[] = []
          for (let o = 0; o < ct.length; o += ctSplit) split.push(ct.subarray(o, o + ctSplit))
          expect(await dec(split)).toEqual(pt)
        },
      ),
      { numRuns: 80 },
    )
  })

  it('with the plaintext size stated, gives the same bytes for any split, sealing whole chunks in place', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.integer({ min: 1, max: 70 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { maxLength: 12 }),
        async (pt, chunkSize, cuts) => {
          const parts: Uint8Array[] = []
          let at = 0
          for (const c of cuts) parts.push(pt.subarray(at, (at = Math.min(pt.length, at + c))))
          parts.push(pt.subarray(at))
          const opts = { chunkSize, noncePrefix: prefix }
          const unknown = await collectBytes(encryptChunked(key, parts, opts))
          // A spy cipher: which plaintexts were sealed without passing through the staging buffer.
          const inPlace: boolean[] = []
          const spy = async (k: Uint8Array) => {
            const real = await webCryptoChunkCipher(k)
            return {
              ...real,
              seal: (iv: Uint8Array, aad: Uint8Array, p: Uint8Array) => {
                inPlace.push(parts.some((part) => part.length > 0 && p.buffer === part.buffer))
                return real.seal(iv, aad, p)
              },
            }
          }
          const known = await collectBytes(encryptChunked(key, parts, { ...opts, size: pt.length, cipher: spy }))
          expect(known).toEqual(unknown)
          // Every chunk but the last (sealed only at the source's end) that lay whole inside one source piece
          // was sealed in place.
          let offset = 0
          const whole = new Set<number>()
          const lastIndex = Math.max(0, Math.ceil(pt.length / chunkSize) - 1)
          for (const part of parts) {
            for (
              let c = Math.ceil(offset / chunkSize) * chunkSize;
              c + chunkSize <= offset + part.length;
              c += chunkSize
            )
              if (c / chunkSize < lastIndex) whole.add(c / chunkSize)
            offset += part.length
          }
          for (const i of whole) expect(inPlace[i]).toBe(true)
          expect(await dec(known)).toEqual(pt)
        },
      ),
      { numRuns: 120 },
    )
  })

  it('refuses a plaintext longer or shorter than its stated size, before sealing a final chunk', async () => {
    const pt = new Uint8Array(200).fill(5)
    const sealed: Uint8Array[] = []
    const longer = encryptChunked(key, [pt.subarray(0, 64), pt.subarray(64)], { chunkSize: 64, size: 100 })
    await expect(
      (async () => {
        for await (const p of longer) sealed.push(p)
      })(),
    ).rejects.toThrow(/longer than its stated size of 100 bytes/)
    // Header and the first chunk only (not final): nothing that could pass for a whole stream.
    await expect(dec(await collectBytes(sealed))).rejects.toThrow(CiphertextIntegrityError)
    await expect(collectBytes(encryptChunked(key, [pt], { chunkSize: 64, size: 201 }))).rejects.toThrow(
      /ended after 200 of its stated 201 bytes/,
    )
    await expect(collectBytes(encryptChunked(key, [pt], { chunkSize: 64, size: 1.5 }))).rejects.toThrow(
      InvalidInputError,
    )
    // Empty plaintext with size 0: one empty final chunk, as without a size.
    expect(await collectBytes(encryptChunked(key, [], { chunkSize: 64, noncePrefix: prefix, size: 0 }))).toEqual(
      await collectBytes(encryptChunked(key, [], { chunkSize: 64, noncePrefix: prefix })),
    )
  })

  it('node:crypto and WebCrypto backends produce and accept the same bytes', async () => {
    const pt = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff)
    const a = await collectBytes(encryptChunked(key, [pt], { chunkSize: 64, noncePrefix: prefix }))
    const b = await collectBytes(
      encryptChunked(key, [pt], { chunkSize: 64, noncePrefix: prefix, cipher: nodeChunkCipher }),
    )
    expect(b).toEqual(a)
    expect(await dec(a, key, nodeChunkCipher)).toEqual(pt)
  })

  it('node:crypto seals a chunk larger than its update slice to the same bytes, in pieces', async () => {
    // 300,000-byte chunks span several of the backend's 64 KiB update slices, and the last chunk
    // ends mid-slice; the pieces must concatenate to exactly what WebCrypto seals in one piece.
    const pt = Uint8Array.from({ length: 700_001 }, (_, i) => (i * 31) & 0xff)
    const opts = { chunkSize: 300_000, noncePrefix: prefix }
    const pieces: Uint8Array[] = []
    for await (const p of encryptChunked(key, [pt], { ...opts, cipher: nodeChunkCipher })) pieces.push(p)
    expect(pieces.length).toBeGreaterThan(4) // header + 3 chunks, each sealed in more than one piece
    expect(pieces.every((p) => p.length <= 64 * 1024)).toBe(true)
    const whole = await collectBytes(encryptChunked(key, [pt], opts))
    expect(Buffer.concat(pieces)).toEqual(Buffer.from(whole))
    expect(await dec(whole, key, nodeChunkCipher)).toEqual(pt)
    // Opening in pieces too: a tampered second chunk releases nothing of it, only the first chunk.
    const tampered = whole.slice()
    tampered[16 + 300_016 + 1000] ^= 1
    const got: Uint8Array[] = []
    await expect(
      (async () => {
        for await (const p of decryptChunked(key, [tampered], { cipher: nodeChunkCipher })) got.push(p)
      })(),
    ).rejects.toThrow(/chunk 1 does not authenticate/)
    expect(Buffer.concat(got)).toEqual(Buffer.from(pt.subarray(0, 300_000)))
  })

  it('accepts WHATWG ReadableStreams in and out', async () => {
    const pt = new Uint8Array(300).fill(7)
    const stream = toReadableStream(
      encryptChunked(
        key,
        toReadableStream(
          (async function* () {
            yield pt
          })(),
        ),
        { chunkSize: 100, noncePrefix: prefix },
      ),
    )
    expect(await collectBytes(decryptChunked(key, stream))).toEqual(pt)
  })

  describe('when the ciphertext is attacked', () => {
    const pt = Uint8Array.from({ length: 250 }, (_, i) => i)
    const cs = 64 // 4 chunks: 64, 64, 64, 58

    it('a flipped bit anywhere never decrypts', async () => {
      const ct = await enc(pt, cs)
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: ct.length * 8 - 1 }), async (bit) => {
          const t = ct.slice()
          t[bit >> 3] ^= 1 << (bit & 7)
          await expect(dec(t)).rejects.toThrow(CiphertextIntegrityError)
        }),
        { numRuns: 120 },
      )
    })

    it('reordered chunks never decrypt', async () => {
      const { header, chunks } = frames(await enc(pt, cs), cs)
      await expect(dec(await join(header, chunks[1], chunks[0], chunks[2], chunks[3]))).rejects.toThrow(/chunk 0/)
    })

    it('a dropped final chunk (truncation at a chunk boundary) never decrypts', async () => {
      const { header, chunks } = frames(await enc(pt, cs), cs)
      await expect(dec(await join(header, chunks[0], chunks[1], chunks[2]))).rejects.toThrow(/final chunk/)
    })

    it('a dropped middle chunk never decrypts', async () => {
      const { header, chunks } = frames(await enc(pt, cs), cs)
      await expect(dec(await join(header, chunks[0], chunks[2], chunks[3]))).rejects.toThrow(CiphertextIntegrityError)
    })

    it('truncation at any byte never decrypts', async () => {
      const ct = await enc(pt, cs)
      for (let n = 0; n < ct.length; n += 5)
        await expect(dec(ct.subarray(0, n))).rejects.toThrow(CiphertextIntegrityError)
    })

    it('an exactly-full stream cut at the boundary is still detected', async () => {
      const full = new Uint8Array(128).fill(3) // two full chunks of 64: the last one is final
      const { header, chunks } = frames(await enc(full, cs), cs)
      expect(chunks.length).toBe(2)
      await expect(dec(await join(header, chunks[0]))).rejects.toThrow(CiphertextIntegrityError)
    })

    it('appended data or a chunk from another stream never decrypts', async () => {
      const ct = await enc(pt, cs)
      const { chunks } = frames(ct, cs)
      await expect(dec(await join(ct, chunks[3]))).rejects.toThrow(CiphertextIntegrityError)
      await expect(dec(await join(ct, new Uint8Array(1)))).rejects.toThrow(CiphertextIntegrityError)
      const other = frames(
        await collectBytes(encryptChunked(key, [pt], { chunkSize: cs, noncePrefix: new Uint8Array([9, 9, 9, 9]) })),
        cs,
      )
      const mine = frames(ct, cs)
      await expect(
        dec(await join(mine.header, mine.chunks[0], other.chunks[1], mine.chunks[2], mine.chunks[3])),
      ).rejects.toThrow(CiphertextIntegrityError)
    })

    it('a header with another chunk size, version or magic never decrypts', async () => {
      const ct = await enc(pt, cs)
      for (const [i, v] of [
        [11, 65],
        [4, 2],
        [0, 0x54],
        [12, 0],
      ] as const) {
        const t = ct.slice()
        t[i] = v
        await expect(dec(t)).rejects.toThrow(CiphertextIntegrityError)
      }
    })

    it('another key never decrypts', async () => {
      await expect(dec(await enc(pt, cs), new Uint8Array(32).fill(2))).rejects.toThrow(CiphertextIntegrityError)
    })

    it('yields nothing from a chunk that did not authenticate', async () => {
      const ct = await enc(pt, cs)
      const t = ct.slice()
      t[CHUNKED_HEADER_LENGTH + cs + GCM_TAG_LENGTH + 3] ^= 1 // second chunk
      const got: Uint8Array[] = []
      await expect(
        (async () => {
          for await (const p of decryptChunked(key, [t])) got.push(p)
        })(),
      ).rejects.toThrow(/chunk 1/)
      expect(got.length).toBe(1)
      expect(got[0]).toEqual(pt.subarray(0, cs))
    })
  })

  it('rejects bad parameters', async () => {
    await expect(enc(new Uint8Array(1), 0)).rejects.toThrow(InvalidInputError)
    await expect(collectBytes(encryptChunked(new Uint8Array(16), [new Uint8Array(1)]))).rejects.toThrow(
      InvalidInputError,
    )
    await expect(
      collectBytes(encryptChunked(key, [new Uint8Array(1)], { noncePrefix: new Uint8Array(3) })),
    ).rejects.toThrow(InvalidInputError)
    const ct = await enc(new Uint8Array(10), 4096)
    await expect(collectBytes(decryptChunked(key, [ct], { maxChunkSize: 1024 }))).rejects.toThrow(/maximum/)
  })
})
