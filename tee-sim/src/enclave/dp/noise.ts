// Exact discrete noise for differential privacy, from integer arithmetic only — no floating-point
// Laplace, whose rounding leaks (Mironov 2012, "On significance of the least significant bits for
// differential privacy"). Samplers are Algorithms 1–3 of Canonne, Kamath & Steinke 2020, "The
// Discrete Gaussian for Differential Privacy" (NeurIPS 2020), with rational parameters.
import type { RandomSource } from './random'

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b]
  return a
}

/** CKS 2020 Alg. 1: Bernoulli(exp(−num/den)) for num/den ≥ 0, using only Bernoulli(rational) trials. */
export function bernoulliExp(rng: RandomSource, num: number, den: number): boolean {
  if (num < 0 || den <= 0) throw new RangeError('bernoulliExp: γ must be ≥ 0')
  if (num <= den) {
    // γ ∈ [0, 1]: K = first k with A_k = 0 where A_k ~ Bernoulli(γ/k); return K odd.
    let k = 1
    while (rng.bernoulli(num, den * k)) k++
    return k % 2 === 1
  }
  const whole = Math.floor(num / den)
  for (let i = 0; i < whole; i++) if (!bernoulliExp(rng, 1, 1)) return false
  return bernoulliExp(rng, num - whole * den, den)
}

/**
 * CKS 2020 Alg. 2: discrete Laplace with P[x] ∝ exp(−|x|·s/t) for integers s, t ≥ 1.
 * For ε-DP on an integer query of sensitivity Δ, use exp(−ε|x|/Δ): see `laplaceForEpsilon`.
 */
export function discreteLaplace(rng: RandomSource, s: number, t: number): number {
  const g = gcd(s, t)
  s /= g
  t /= g
  for (;;) {
    const u = rng.uniformInt(t)
    if (!bernoulliExp(rng, u, t)) continue
    let v = 0
    while (bernoulliExp(rng, 1, 1)) v++
    const x = u + t * v
    const y = Math.floor(x / s)
    const negative = rng.bernoulli(1, 2)
    if (negative && y === 0) continue
    return negative ? -y : y
  }
}

/**
 * Discrete Laplace noise for ε = epsilonMilli/1000 and integer sensitivity Δ:
 * P[x] ∝ exp(−ε|x|/Δ), i.e. s/t = epsilonMilli / (1000·Δ). Pure ε-DP (Ghosh, Roughgarden &
 * Sundararajan 2009: the geometric mechanism).
 */
export function laplaceForEpsilon(rng: RandomSource, epsilonMilli: number, sensitivity: number): number {
  if (!Number.isSafeInteger(epsilonMilli) || epsilonMilli <= 0)
    throw new RangeError('epsilonMilli must be a positive integer')
  if (!Number.isSafeInteger(sensitivity) || sensitivity <= 0 || sensitivity > 2 ** 30) {
    throw new RangeError('sensitivity must be an integer in 1..2^30')
  }
  return discreteLaplace(rng, epsilonMilli, 1000 * sensitivity)
}

/**
 * CKS 2020 Alg. 3: discrete Gaussian N_Z(0, σ²) with σ² = sigma2Num/sigma2Den (rational).
 * t = ⌊σ⌋ + 1; Y ~ DLap(t); accept with probability exp(−(|Y| − σ²/t)² / (2σ²)).
 */
export function discreteGaussian(rng: RandomSource, sigma2Num: number, sigma2Den: number): number {
  if (sigma2Num <= 0 || sigma2Den <= 0) throw new RangeError('σ² must be > 0')
  const t = Math.floor(Math.sqrt(sigma2Num / sigma2Den)) + 1
  for (;;) {
    const y = discreteLaplace(rng, 1, t)
    // γ = (|y|·t·den − num)² / (2·num·den·t²) — computed exactly in BigInt, then reduced.
    const a = BigInt(Math.abs(y)) * BigInt(t) * BigInt(sigma2Den) - BigInt(sigma2Num)
    let num = a * a
    let den = 2n * BigInt(sigma2Num) * BigInt(sigma2Den) * BigInt(t) * BigInt(t)
    while (num > 2n ** 40n || den > 2n ** 40n) {
      // Keep operands where RandomSource draws are exact (< 2^48 after the ×k of Alg. 1). Halving
      // both with num rounded down and den rounded up perturbs γ by < 2^-39 relative, accounted
      // for as part of δ (the discrete Gaussian is used for (ε, δ) guarantees only).
      num >>= 1n
      den = (den + 1n) >> 1n
    }
    if (bernoulliExp(rng, Number(num), Number(den))) return y
  }
}

/**
 * τ for releasing data-dependent GROUP BY keys with a discrete-Laplace count of sensitivity 1:
 * the smallest τ with P[1 + Z ≥ τ] ≤ δ, where P[Z ≥ k] = e^{−εk}/(1+e^{−ε}) for k ≥ 1.
 * A key held by one row is then released with probability ≤ δ (Korolova et al. 2009;
 * Wilson et al. 2020, "Differentially private SQL with bounded user contribution").
 */
export function groupThreshold(epsilonMilli: number, delta: number): number {
  const eps = epsilonMilli / 1000
  const k = Math.ceil(Math.log(1 / (delta * (1 + Math.exp(-eps)))) / eps)
  return 1 + Math.max(k, 1)
}
