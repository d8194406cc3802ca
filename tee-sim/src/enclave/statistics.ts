// Differentially private summary statistics released at ingest (try-before-you-buy evidence):
// a noisy row count and one noisy histogram per column, each a separate ε share (sequential
// composition, Dwork & Roth 2014 Thm 3.16). Numeric columns use a fixed, data-independent log2
// bin universe, so all their keys are public; text columns release only τ-thresholded keys.
import type { Column, Dataset } from './dataset'
import { groupThreshold, laplaceForEpsilon } from './dp/noise'
import type { RandomSource } from './dp/random'

export const INGEST_EPSILON_MILLI = 1000
export const INGEST_DELTA = 1e-6
const MIN_EXP = -20
const MAX_EXP = 60
const TOP_VALUES = 20

export interface NumericBin {
  /** Inclusive lower and exclusive upper edge; [0, 0] is the zero bin. */
  lo: number
  hi: number
  noisyCount: number
}

export interface ColumnStatistics {
  name: string
  type: Column['type']
  noisyNullCount: number
  /** Numeric: log2-bin histogram (bins with a noisy count ≥ τ only). */
  bins?: NumericBin[]
  /** Numeric: DP range from the released bins (post-processing); default clamping bounds. */
  range?: [number, number] | null
  /** Text/boolean: values with a noisy count ≥ τ (top 20). */
  values?: { value: string; noisyCount: number }[]
}

export interface DatasetStatistics {
  noisyRowCount: number
  epsilonMilli: number
  delta: number
  epsilonPerMeasurementMilli: number
  threshold: number
  columns: ColumnStatistics[]
}

/** Bin index for a finite number: 0 → zero bin; otherwise sign and ⌊log2|v|⌋ clamped to the universe. */
function binOf(v: number): number {
  if (v === 0) return 0
  const e = Math.min(MAX_EXP, Math.max(MIN_EXP, Math.floor(Math.log2(Math.abs(v)))))
  const k = e - MIN_EXP + 1
  return v > 0 ? k : -k
}

function binEdges(bin: number): [number, number] {
  if (bin === 0) return [0, 0]
  const e = Math.abs(bin) - 1 + MIN_EXP
  const lo = e === MIN_EXP ? 0 : 2 ** e
  const hi = e === MAX_EXP ? Number.MAX_VALUE : 2 ** (e + 1)
  return bin > 0 ? [lo, hi] : [-hi, -lo]
}

export function summarize(data: Dataset, rng: RandomSource): DatasetStatistics {
  const measurements = 1 + data.columns.length
  const eps = Math.max(1, Math.floor(INGEST_EPSILON_MILLI / measurements))
  const tau = groupThreshold(eps, INGEST_DELTA)
  const noisy = (n: number) => n + laplaceForEpsilon(rng, eps, 1)
  const columns: ColumnStatistics[] = data.columns.map((c) => {
    // One histogram per column (null is one more bin): each row adds 1 to exactly one bin → Δ = 1.
    if ('values' in c) {
      const counts = new Map<number, number>()
      let nulls = 0
      for (const v of c.values) {
        if (Number.isNaN(v)) nulls++
        else {
          const b = binOf(v)
          counts.set(b, (counts.get(b) ?? 0) + 1)
        }
      }
      const bins: NumericBin[] = []
      const universe = MAX_EXP - MIN_EXP + 1
      for (let b = -universe; b <= universe; b++) {
        const n = noisy(counts.get(b) ?? 0)
        if (n >= tau) {
          const [lo, hi] = binEdges(b)
          bins.push({ lo, hi, noisyCount: n })
        }
      }
      const range: [number, number] | null = bins.length ? [bins[0].lo, bins[bins.length - 1].hi] : null
      return { name: c.name, type: c.type, noisyNullCount: Math.max(0, noisy(nulls)), bins, range }
    }
    const counts = new Int32Array(c.dict.length)
    let nulls = 0
    for (const code of c.codes) {
      if (code < 0) nulls++
      else counts[code]++
    }
    const values: { value: string; noisyCount: number }[] = []
    if (c.type === 'boolean') {
      // Booleans have a public domain: every key is released, no threshold needed.
      for (const key of ['false', 'true']) {
        const code = c.dict.indexOf(key)
        values.push({ value: key, noisyCount: Math.max(0, noisy(code >= 0 ? counts[code] : 0)) })
      }
    } else {
      // Text keys are data-dependent: release only those whose noisy count reaches τ.
      for (let code = 0; code < c.dict.length; code++) {
        const n = noisy(counts[code])
        if (n >= tau) values.push({ value: c.dict[code], noisyCount: n })
      }
    }
    values.sort((a, b) => b.noisyCount - a.noisyCount || (a.value < b.value ? -1 : 1))
    return {
      name: c.name,
      type: c.type,
      noisyNullCount: Math.max(0, noisy(nulls)),
      values: values.slice(0, TOP_VALUES),
    }
  })
  return {
    noisyRowCount: Math.max(0, noisy(data.rowCount)),
    epsilonMilli: eps * measurements,
    delta: INGEST_DELTA,
    epsilonPerMeasurementMilli: eps,
    threshold: tau,
    columns,
  }
}
