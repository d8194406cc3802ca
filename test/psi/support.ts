// Deterministic randomness for PSI tests (STYLE.md: nothing reads Math.random or the real CSPRNG).
import { sha256 } from '@noble/hashes/sha2.js'
import type { RandomBytes } from '../../sdk/src/psi/index'

/** SHA-256 in counter mode over a label: the same bytes on every run. */
export function seededRandom(label: string | number): RandomBytes {
  const seed = new TextEncoder().encode(`psi-test:${label}`)
  let counter = 0
  return (n) => {
    const out = new Uint8Array(n)
    for (let o = 0; o < n; o += 32) {
      const block = new Uint8Array(seed.length + 4)
      block.set(seed)
      new DataView(block.buffer).setUint32(seed.length, counter++)
      out.set(sha256(block).subarray(0, Math.min(32, n - o)), o)
    }
    return out
  }
}

/** Plaintext intersection as a set of values (the oracle). */
export function plainIntersection(a: readonly string[], b: readonly string[]): Set<string> {
  const sb = new Set(b)
  return new Set(a.filter((x) => sb.has(x)))
}
