// The birational map from edwards25519 to curve25519 on encoded points, batched: u = (1 + y) / (1 − y)
// (RFC 7748 §4.1), with one field inversion per batch (Montgomery's trick).

/** p = 2^255 − 19 (RFC 7748 §4.1). */
export const P = (1n << 255n) - 19n

function modPow(base: bigint, exp: bigint): bigint {
  let r = 1n
  let b = base % P
  let e = exp
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P
    b = (b * b) % P
    e >>= 1n
  }
  return r
}

const M64 = (1n << 64n) - 1n

/** Little-endian bytes → bigint (any length; 32 bytes take the fast path of four 64-bit limbs). */
export function leToBigint(bytes: Uint8Array): bigint {
  if (bytes.length === 32) {
    const d = new DataView(bytes.buffer, bytes.byteOffset, 32)
    return (
      d.getBigUint64(0, true) |
      (d.getBigUint64(8, true) << 64n) |
      (d.getBigUint64(16, true) << 128n) |
      (d.getBigUint64(24, true) << 192n)
    )
  }
  let hex = ''
  for (let i = bytes.length - 1; i >= 0; i--) hex += bytes[i] < 16 ? '0' + bytes[i].toString(16) : bytes[i].toString(16)
  return hex ? BigInt('0x' + hex) : 0n
}

/** bigint in [0, 2^256) → 32 little-endian bytes, written into `out` when given. */
export function bigintToLe32(v: bigint, out: Uint8Array = new Uint8Array(32)): Uint8Array {
  if (v < 0n || v >> 256n !== 0n) throw new RangeError('bigintToLe32: value out of range')
  if (out.length !== 32) throw new RangeError('bigintToLe32: out must be 32 bytes')
  const d = new DataView(out.buffer, out.byteOffset, 32)
  d.setBigUint64(0, v & M64, true)
  d.setBigUint64(8, (v >> 64n) & M64, true)
  d.setBigUint64(16, (v >> 128n) & M64, true)
  d.setBigUint64(24, v >> 192n, true)
  return out
}

/**
 * Montgomery u-coordinates of edwards25519 points given in RFC 8032 §5.1.2 encoding (y little-endian,
 * the top bit the sign of x, which the u-coordinate does not depend on). Throws on the identity
 * (y = 1, u undefined), which a hash-to-curve output hits with probability ≈ 2^-252.
 */
export function edwardsToMontgomeryBatch(encoded: Uint8Array[]): Uint8Array[] {
  const n = encoded.length
  if (n === 0) return []
  const num: bigint[] = new Array(n)
  const den: bigint[] = new Array(n)
  const prefix: bigint[] = new Array(n)
  let acc = 1n
  for (let i = 0; i < n; i++) {
    const e = encoded[i]
    if (e.length !== 32) throw new RangeError(`point ${i}: expected 32 bytes`)
    const y = leToBigint(e) & ((1n << 255n) - 1n)
    if (y >= P) throw new RangeError(`point ${i}: non-canonical y`)
    num[i] = (1n + y) % P
    den[i] = (P + 1n - y) % P
    if (den[i] === 0n) throw new RangeError(`point ${i}: identity has no Montgomery u-coordinate`)
    prefix[i] = acc
    acc = (acc * den[i]) % P
  }
  // Fermat: acc^(p−2) = acc^−1 (acc ≠ 0 because no factor is 0 and p is prime).
  let inv = modPow(acc, P - 2n)
  const out: Uint8Array[] = new Array(n)
  const packed = new Uint8Array(32 * n) // one allocation; the u-coordinates are views into it
  for (let i = n - 1; i >= 0; i--) {
    const denInv = (inv * prefix[i]) % P
    inv = (inv * den[i]) % P
    out[i] = bigintToLe32((num[i] * denInv) % P, packed.subarray(32 * i, 32 * i + 32))
  }
  return out
}
