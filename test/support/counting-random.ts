// Deterministic "random" bytes for protocol tests that must repeat exactly: each call differs from the last
// (a counter), so keys, nonces and session ids stay distinct within a test file. Never for real keys.
import type { RandomBytes } from '../../sdk/src/psi/index'

export function countingRandom(): RandomBytes {
  let counter = 0
  return (n) => {
    const out = new Uint8Array(n)
    for (let i = 0; i < n; i++) out[i] = (counter * 131 + i * 7 + 1) & 0xff
    counter++
    return out
  }
}
