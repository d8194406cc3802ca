// node:crypto (OpenSSL) backend for the chunked AES-256-GCM format: the enclave's bulk path, several
// times faster than WebCrypto on this runtime because it avoids per-chunk promise and copy overhead.
import { createCipheriv, createDecipheriv } from 'node:crypto'
import { assertBytes } from '../bytes'
import type { ChunkCipherFactory } from '../chunked-aead'

const TAG = 16

export const nodeChunkCipher: ChunkCipherFactory = (key) => {
  const k = Buffer.from(assertBytes(key, 32, 'data key'))
  return {
    seal(iv, aad, pt) {
      const c = createCipheriv('aes-256-gcm', k, iv)
      c.setAAD(aad)
      const head = c.update(pt)
      const tail = c.final()
      const out = new Uint8Array(head.length + tail.length + TAG)
      out.set(head, 0)
      out.set(tail, head.length)
      out.set(c.getAuthTag(), head.length + tail.length)
      return out
    },
    open(iv, aad, ct) {
      if (ct.length < TAG) throw new Error('ciphertext shorter than its tag')
      const d = createDecipheriv('aes-256-gcm', k, iv)
      d.setAAD(aad)
      d.setAuthTag(ct.subarray(ct.length - TAG))
      const head = d.update(ct.subarray(0, ct.length - TAG))
      const tail = d.final() // throws when the tag does not verify
      if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length)
      const out = new Uint8Array(head.length + tail.length)
      out.set(head, 0)
      out.set(tail, head.length)
      return out
    },
  }
}
