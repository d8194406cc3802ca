// Byte helpers shared by the PSI modules: explicit lengths, no Buffer (the module runs in browsers).

/** Hex without prefix, lower case. */
export function toHex(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += bytes[i].toString(16).padStart(2, '0')
  return s
}

/** Parses hex with or without `0x`; throws on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  const h = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new TypeError('fromHex: not an even-length hex string')
  const out = new Uint8Array(h.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Concatenation, from @noble/hashes (the same helper the rest of the crypto code uses). */
export { concatBytes } from '@noble/hashes/utils.js'

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i]
  return d === 0
}

const encoder = new TextEncoder()
export const utf8 = (s: string): Uint8Array => encoder.encode(s)

/** Throws unless `b` is a Uint8Array of exactly `len` bytes. */
export function assertBytes(b: unknown, len: number, what: string): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new TypeError(`${what}: expected Uint8Array`)
  if (b.length !== len) throw new RangeError(`${what}: expected ${len} bytes, got ${b.length}`)
}

/** Concatenates equal-size elements into one buffer (the wire form of a list of group elements). */
export function packElements(elements: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(elements.length * size)
  elements.forEach((e, i) => {
    assertBytes(e, size, `element ${i}`)
    out.set(e, i * size)
  })
  return out
}

/** Splits a packed buffer back into elements (views, not copies). */
export function unpackElements(packed: Uint8Array, size: number): Uint8Array[] {
  if (packed.length % size !== 0) throw new RangeError(`packed length ${packed.length} is not a multiple of ${size}`)
  const out: Uint8Array[] = new Array(packed.length / size)
  for (let i = 0; i < out.length; i++) out[i] = packed.subarray(i * size, (i + 1) * size)
  return out
}
