// Enclave-mode PSI (R55, R67): the intersection of one column of each of two decrypted assets, computed
// inside the enclave for owners who prefer not to run a client, released either as the matched values
// or as a differentially private count. Inside the TEE no blinding is needed: plaintext never leaves it.
import type { Column, Dataset } from './dataset'
import { laplaceForEpsilon } from './dp/noise'
import type { RandomSource } from './dp/random'
import { InvalidInputError } from '../errors'

export type PsiRelease = { kind: 'intersection' } | { kind: 'count'; epsilonMilli: number }

export interface PsiJobSpec {
  /** Identifier column of asset A and of asset B (string or integer columns). */
  columnA: string
  columnB: string
  release: PsiRelease
}

export type PsiEnclaveResult =
  { kind: 'intersection'; values: string[]; size: number } | { kind: 'count'; noisyCount: number; epsilonMilli: number }

function distinctValues(d: Dataset, name: string): Set<string> {
  const col: Column | undefined = d.columns.find((c) => c.name === name)
  if (!col) throw new InvalidInputError(`no column "${name}"`)
  const out = new Set<string>()
  if ('codes' in col) {
    if (col.type !== 'string') throw new InvalidInputError(`column "${name}" is ${col.type}, not an identifier`)
    for (const code of col.codes) if (code >= 0) out.add(col.dict[code])
  } else {
    if (col.type !== 'integer') throw new InvalidInputError(`column "${name}" is ${col.type}, not an identifier`)
    for (const v of col.values) if (!Number.isNaN(v)) out.add(String(v))
  }
  return out
}

/**
 * The intersection of `a.columnA` and `b.columnB` as distinct values. With `count`, releases
 * |A ∩ B| + DLap(ε) clamped at 0: adding or removing one row of either asset changes the distinct
 * intersection by at most 1, so sensitivity 1 gives ε-DP (Ghosh, Roughgarden & Sundararajan 2009).
 */
export function psiOverDatasets(a: Dataset, b: Dataset, spec: PsiJobSpec, rng: RandomSource): PsiEnclaveResult {
  const va = distinctValues(a, spec.columnA)
  const vb = distinctValues(b, spec.columnB)
  const [small, large] = va.size <= vb.size ? [va, vb] : [vb, va]
  const values: string[] = []
  for (const v of small) if (large.has(v)) values.push(v)
  if (spec.release.kind === 'intersection') return { kind: 'intersection', values: values.sort(), size: values.length }
  const noisy = values.length + laplaceForEpsilon(rng, spec.release.epsilonMilli, 1)
  return { kind: 'count', noisyCount: Math.max(0, noisy), epsilonMilli: spec.release.epsilonMilli }
}
