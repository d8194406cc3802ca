// Uniform integers and Bernoulli trials with exact rational probabilities, drawn from the injected
// CSPRNG in pooled 4 KiB reads. Everything the DP samplers need, without floating point.
import type { EnclaveRuntime } from '../runtime'

const POOL = 4096

export class RandomSource {
  private pool: Uint8Array = new Uint8Array(0)
  private pos = 0
  constructor(private readonly rt: Pick<EnclaveRuntime, 'randomBytes'>) {}

  private byte(): number {
    if (this.pos >= this.pool.length) {
      this.pool.fill(0)
      this.pool = this.rt.randomBytes(POOL)
      this.pos = 0
    }
    return this.pool[this.pos++]
  }

  /** Uniform integer in [0, n) for 1 ≤ n ≤ 2^48, by rejection sampling (no modulo bias). */
  uniformInt(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 48) throw new RangeError('uniformInt: n out of range')
    if (n === 1) return 0
    let bytes = 0
    let range = 1
    while (range < n) {
      range *= 256
      bytes++
    }
    const limit = range - (range % n)
    for (;;) {
      let v = 0
      for (let i = 0; i < bytes; i++) v = v * 256 + this.byte()
      if (v < limit) return v % n
    }
  }

  /** Bernoulli(num/den) for integers 0 ≤ num ≤ den. */
  bernoulli(num: number, den: number): boolean {
    return this.uniformInt(den) < num
  }

  /** Wipes the pooled bytes (clean on site). */
  wipe(): void {
    this.pool.fill(0)
    this.pos = this.pool.length
  }
}
