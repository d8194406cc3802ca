// RFC 9380 §5.3.1 expand_message_xmd and §5.2 hash_to_field for one element of GF(2^255 − 19),
// with the hash function injected (node:crypto in Node, @noble/hashes elsewhere).

/** SHA-512 over the concatenation of `parts`. */
export type Sha512 = (...parts: Uint8Array[]) => Uint8Array

const B_IN_BYTES = 64 // SHA-512 output
const S_IN_BYTES = 128 // SHA-512 block
const Z_PAD = new Uint8Array(S_IN_BYTES)

/** RFC 9380 §5.3.1, for `lenInBytes` ≤ 64 (one block: all this module needs). */
export function expandMessageXmd64(sha512: Sha512, msg: Uint8Array, dst: Uint8Array, lenInBytes: number): Uint8Array {
  if (dst.length > 255) throw new RangeError('DST longer than 255 bytes')
  if (lenInBytes < 1 || lenInBytes > B_IN_BYTES) throw new RangeError('expandMessageXmd64: 1 ≤ len ≤ 64')
  const dstPrime = new Uint8Array(dst.length + 1)
  dstPrime.set(dst)
  dstPrime[dst.length] = dst.length
  const libStr = new Uint8Array([(lenInBytes >> 8) & 0xff, lenInBytes & 0xff, 0])
  const b0 = sha512(Z_PAD, msg, libStr, dstPrime)
  const b1 = sha512(b0, new Uint8Array([1]), dstPrime)
  return b1.subarray(0, lenInBytes)
}

/** L = ceil((ceil(log2(p)) + k) / 8) = 48 for p = 2^255 − 19 and k = 128 (RFC 9380 §5.1, §8.5). */
export const FIELD_L = 48
