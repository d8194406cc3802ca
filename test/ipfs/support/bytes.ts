// Deterministic test bytes: the AES-256-CTR keystream under key SHA-256(seed) and a zero IV, so
// any tool (e.g. `openssl enc -aes-256-ctr`) can regenerate a vector file bit for bit.

import { createCipheriv, createHash } from 'node:crypto'

export function seededBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed, 'utf8').digest()
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size))
}

/** `bytes` cut into pieces of `size`, as a client would stream them. */
export function* pieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size)
}

/** The bytes a vector describes: its UTF-8 `text`, or `size` seeded bytes. */
export function vectorBytes(v: { text?: string; seed?: string; size: number }): Buffer {
  return v.text !== undefined ? Buffer.from(v.text, 'utf8') : seededBytes(v.seed as string, v.size)
}
