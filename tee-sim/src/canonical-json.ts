// Canonical JSON (sorted object keys, no whitespace) and its keccak-256, so hashes of schemas,
// statistics and policies signed by the enclave can be recomputed by anyone.
import { keccak_256 } from '@noble/hashes/sha3.js'
import { bytesToHex, utf8, type Hex } from './bytes'
import { InvalidInputError } from './errors'

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidInputError('canonical JSON cannot encode non-finite numbers')
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  throw new InvalidInputError(`canonical JSON cannot encode ${typeof value}`)
}

export function canonicalHash(value: unknown): Hex {
  return bytesToHex(keccak_256(utf8(canonicalJson(value))))
}

/** keccak256(utf8(sql)): the query hash a buyer signs and a receipt records. */
export function queryHashOf(query: string): Hex {
  return bytesToHex(keccak_256(utf8(query)))
}
