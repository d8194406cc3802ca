// Randomness for the party side, injected so tests are deterministic: secret scalars and shuffles.

/** Fills and returns `n` random bytes. */
export type RandomBytes = (n: number) => Uint8Array

/** The platform CSPRNG (WebCrypto), in 64 KiB calls — getRandomValues refuses more at once. */
export const cryptoRandomBytes: RandomBytes = (n) => {
  const out = new Uint8Array(n)
  for (let o = 0; o < n; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(n, o + 65536)))
  return out
}

/**
 * A uniformly random permutation of 0..n−1 (Fisher–Yates, Knuth TAOCP vol. 2 §3.4.2 Algorithm P),
 * each index drawn by rejection sampling from 32-bit words so no position is favoured.
 */
export function randomPermutation(n: number, random: RandomBytes): Uint32Array {
  const perm = new Uint32Array(n)
  for (let i = 0; i < n; i++) perm[i] = i
  let pool: Uint32Array = new Uint32Array(0)
  let next = 0
  const word = () => {
    if (next === pool.length) {
      const bytes = random(4 * Math.max(16, Math.min(n, 16384))).slice() // aligned copy
      pool = new Uint32Array(bytes.buffer, 0, bytes.length >>> 2)
      next = 0
    }
    return pool[next++]
  }
  for (let i = n - 1; i > 0; i--) {
    const bound = i + 1
    const limit = 0x1_0000_0000 - (0x1_0000_0000 % bound)
    let r = word()
    while (r >= limit) r = word()
    const j = r % bound
    const t = perm[i]
    perm[i] = perm[j]
    perm[j] = t
  }
  return perm
}
