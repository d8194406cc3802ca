// Byte helpers with explicit length checks: hex codecs, concatenation and fixed-width integers.
import { InvalidInputError } from './errors'

export type Hex = `0x${string}`

const HEX_RE = /^0x([0-9a-fA-F]{2})*$/

/** Hex string → bytes; throws InvalidInputError on odd length, bad digits or a wrong byte length. */
export function hexToBytes(hex: string, expectedLength?: number, what = 'value'): Uint8Array {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) {
    throw new InvalidInputError(`${what} must be 0x-prefixed hex`)
  }
  const n = (hex.length - 2) / 2
  if (expectedLength !== undefined && n !== expectedLength) {
    throw new InvalidInputError(`${what} must be ${expectedLength} bytes`, { details: `got ${n} bytes` })
  }
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = parseInt(hex.slice(2 + 2 * i, 4 + 2 * i), 16)
  return out
}

const HEX_CHARS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Bytes → lower-case 0x hex. */
export function bytesToHex(bytes: Uint8Array): Hex {
  let s = '0x'
  for (let i = 0; i < bytes.length; i++) s += HEX_CHARS[bytes[i]]
  return s as Hex
}

/** Checks a Uint8Array's exact length. */
export function assertBytes(value: unknown, length: number | undefined, what: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidInputError(`${what} must be a Uint8Array`)
  if (length !== undefined && value.length !== length) {
    throw new InvalidInputError(`${what} must be ${length} bytes`, { details: `got ${value.length} bytes` })
  }
  return value
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0
  for (const p of parts) n += p.length
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Big-endian unsigned integer of `width` bytes; throws if it does not fit. */
export function uintToBytes(value: bigint | number, width: number): Uint8Array {
  let v = BigInt(value)
  if (v < 0n || v >= 1n << BigInt(8 * width)) throw new InvalidInputError(`integer does not fit in ${width} bytes`)
  const out = new Uint8Array(width)
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn)
    v >>= 8n
  }
  return out
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n
  for (const b of bytes) v = (v << 8n) | BigInt(b)
  return v
}

/** Constant-time equality for equal-length inputs (length itself is not secret). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i]
  return d === 0
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Overwrites a buffer with zeros (as far as JavaScript allows: copies made by the engine survive). */
export function wipe(...buffers: (Uint8Array | undefined | null)[]): void {
  for (const b of buffers) if (b) b.fill(0)
}

/** A copy whose backing ArrayBuffer is exactly its bytes (WebCrypto and HPKE want ArrayBuffers). */
export function toArrayBuffer(u8: Uint8Array): ArrayBuffer {
  return u8.slice().buffer as ArrayBuffer
}

export function isHex(value: unknown, length?: number): value is Hex {
  return typeof value === 'string' && HEX_RE.test(value) && (length === undefined || value.length === 2 + 2 * length)
}

/**
 * base64url without padding (RFC 4648 §5), with btoa/atob so it runs in workerd and browsers too. Bytes
 * only: text goes through `utf8` first (btoa on a string takes Latin-1 and throws beyond it).
 */
export function base64url(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Throws (atob's DOMException) on text that is not base64url. */
export function fromBase64url(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/')
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0))
}
