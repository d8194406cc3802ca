import { describe, expect, it } from 'vitest'
import {
  bernoulliExp,
  discreteGaussian,
  discreteLaplace,
  groupThreshold,
  laplaceForEpsilon,
} from '../../tee-sim/src/enclave/dp/noise'
import { RandomSource } from '../../tee-sim/src/enclave/dp/random'
import { testRuntime } from './support'

const N = 20_000

describe('exact samplers (Canonne, Kamath & Steinke 2020)', () => {
  it('Bernoulli(exp(−γ)) has the right mean for γ below and above 1', () => {
    const rng = new RandomSource(testRuntime('bexp'))
    for (const [num, den] of [
      [1, 2],
      [3, 2],
      [5, 1],
    ]) {
      let hits = 0
      for (let i = 0; i < N; i++) if (bernoulliExp(rng, num, den)) hits++
      const p = Math.exp(-num / den)
      expect(Math.abs(hits / N - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N))
    }
  })

  it('discrete Laplace matches P[x] = (1−e^{−s/t})/(1+e^{−s/t})·e^{−|x|s/t}', () => {
    const rng = new RandomSource(testRuntime('dlap'))
    for (const [s, t] of [
      [1, 1],
      [1, 3],
      [2, 5],
    ]) {
      const counts = new Map<number, number>()
      for (let i = 0; i < N; i++) {
        const x = discreteLaplace(rng, s, t)
        expect(Number.isInteger(x)).toBe(true)
        counts.set(x, (counts.get(x) ?? 0) + 1)
      }
      const a = Math.exp(-s / t)
      for (const x of [-2, -1, 0, 1, 2]) {
        const p = ((1 - a) / (1 + a)) * a ** Math.abs(x)
        expect(Math.abs((counts.get(x) ?? 0) / N - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / N) + 1e-3)
      }
    }
  })

  it('laplaceForEpsilon is symmetric with variance 2a/(1−a)² for a = e^{−ε/Δ}', () => {
    const rng = new RandomSource(testRuntime('eps'))
    let sum = 0
    let sq = 0
    for (let i = 0; i < N; i++) {
      const x = laplaceForEpsilon(rng, 500, 2)
      sum += x
      sq += x * x
    }
    const a = Math.exp(-0.25)
    const variance = (2 * a) / (1 - a) ** 2
    expect(Math.abs(sum / N)).toBeLessThan(4 * Math.sqrt(variance / N))
    expect(Math.abs(sq / N - variance) / variance).toBeLessThan(0.1)
  })

  it('discrete Gaussian has mean 0 and variance ≈ σ²', () => {
    const rng = new RandomSource(testRuntime('dgauss'))
    let sum = 0
    let sq = 0
    const n = 5000
    for (let i = 0; i < n; i++) {
      const x = discreteGaussian(rng, 9, 1)
      sum += x
      sq += x * x
    }
    expect(Math.abs(sum / n)).toBeLessThan(4 * Math.sqrt(9 / n))
    expect(Math.abs(sq / n - 9) / 9).toBeLessThan(0.1)
  })

  it('τ keeps a one-row group below δ', () => {
    for (const [eps, delta] of [
      [1000, 1e-6],
      [250, 1e-6],
      [100, 1e-9],
    ] as const) {
      const tau = groupThreshold(eps, delta)
      const e = eps / 1000
      // P[1 + Z ≥ τ] = e^{−ε(τ−1)}/(1+e^{−ε})
      expect(Math.exp(-e * (tau - 1)) / (1 + Math.exp(-e))).toBeLessThanOrEqual(delta)
      expect(Math.exp(-e * (tau - 2)) / (1 + Math.exp(-e))).toBeGreaterThan(delta)
    }
  })

  it('rejects invalid parameters', () => {
    const rng = new RandomSource(testRuntime('bad'))
    expect(() => laplaceForEpsilon(rng, 0, 1)).toThrow(RangeError)
    expect(() => laplaceForEpsilon(rng, 1000, 0)).toThrow(RangeError)
    expect(() => laplaceForEpsilon(rng, 1.5, 1)).toThrow(RangeError)
    expect(() => rng.uniformInt(0)).toThrow(RangeError)
    expect(() => bernoulliExp(rng, -1, 1)).toThrow(RangeError)
  })
})
