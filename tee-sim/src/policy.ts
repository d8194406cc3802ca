// The owner's privacy policy for an asset: differential privacy (default) or aggregates-only with a
// minimum group size; per-column clamping bounds, identifiers and public domains. Fixed at ingest.
import { PolicyViolationError } from './errors'

export interface ColumnPolicy {
  /** Clamping bounds for SUM/AVG (DP). Defaults to the DP range released at ingest. */
  bounds?: [number, number]
  /** Decimal places kept for SUM/AVG (values are fixed-point ×10^scale for discrete noise). 0..6. */
  scale?: number
  /** Never selectable, groupable or filterable (e.g. email, national id). */
  identifier?: boolean
  /** Public list of possible values: GROUP BY on it needs no τ-threshold (keys are not data-dependent). */
  domain?: string[]
}

export interface PrivacyPolicy {
  mode: 'dp' | 'aggregates-only'
  /** ε (×1000) charged per query, split evenly across the query's measurements. DP only. Default 1000. */
  epsilonPerQueryMilli?: number
  /** δ for τ-thresholding data-dependent GROUP BY keys. DP only. Default 1e-6. */
  deltaPerQuery?: number
  /** Smallest group released. aggregates-only: default 10. */
  minGroupSize?: number
  /** MIN/MAX allowed (aggregates-only only; never under DP). */
  allowMinMax?: boolean
  /** Most groups one query may return. Default 1000. */
  maxGroups?: number
  /**
   * May a buyer's query JOIN this asset with another owner's asset (R67; also the enclave PSI mode)?
   * Default false: a join links records across owners, which a single-asset query never does, so the
   * owner opts in. Joined keys are never released, only aggregates under the strictest policy of the parts.
   */
  allowJoin?: boolean
  /** May this asset be stacked (UNION ALL) with other assets bound to the same table name? Default false. */
  allowUnion?: boolean
  columns?: Record<string, ColumnPolicy>
}

export const DEFAULT_POLICY: PrivacyPolicy = {
  mode: 'dp',
  epsilonPerQueryMilli: 1000,
  deltaPerQuery: 1e-6,
  maxGroups: 1000,
}

/** Validates and fills defaults; throws PolicyViolationError naming the bad field. */
export function normalizePolicy(
  input: unknown,
): Required<Omit<PrivacyPolicy, 'columns'>> & { columns: Record<string, ColumnPolicy> } {
  const p = (input ?? DEFAULT_POLICY) as PrivacyPolicy
  const bad = (field: string, why: string) => new PolicyViolationError(`invalid policy: ${field} ${why}`)
  if (typeof p !== 'object' || p === null) throw bad('policy', 'must be an object')
  if (p.mode !== 'dp' && p.mode !== 'aggregates-only') throw bad('mode', "must be 'dp' or 'aggregates-only'")
  const eps = p.epsilonPerQueryMilli ?? 1000
  if (!Number.isSafeInteger(eps) || eps < 1 || eps > 100_000)
    throw bad('epsilonPerQueryMilli', 'must be an integer in 1..100000')
  const delta = p.deltaPerQuery ?? 1e-6
  if (typeof delta !== 'number' || !(delta > 0 && delta <= 1e-3)) throw bad('deltaPerQuery', 'must be in (0, 0.001]')
  const k = p.minGroupSize ?? 10
  if (!Number.isSafeInteger(k) || k < 2 || k > 1_000_000) throw bad('minGroupSize', 'must be an integer ≥ 2')
  const maxGroups = p.maxGroups ?? 1000
  if (!Number.isSafeInteger(maxGroups) || maxGroups < 1 || maxGroups > 100_000)
    throw bad('maxGroups', 'must be an integer in 1..100000')
  for (const flag of ['allowJoin', 'allowUnion'] as const) {
    if (p[flag] !== undefined && typeof p[flag] !== 'boolean') throw bad(flag, 'must be true or false')
  }
  if (p.allowMinMax && p.mode === 'dp') throw bad('allowMinMax', 'is not available under differential privacy')
  const columns: Record<string, ColumnPolicy> = {}
  for (const [name, c] of Object.entries(p.columns ?? {})) {
    if (typeof c !== 'object' || c === null) throw bad(`columns.${name}`, 'must be an object')
    if (c.bounds !== undefined) {
      const [lo, hi] = c.bounds
      if (
        !Array.isArray(c.bounds) ||
        c.bounds.length !== 2 ||
        !Number.isFinite(lo) ||
        !Number.isFinite(hi) ||
        lo > hi
      ) {
        throw bad(`columns.${name}.bounds`, 'must be [lo, hi] with lo ≤ hi')
      }
    }
    if (c.scale !== undefined && (!Number.isInteger(c.scale) || c.scale < 0 || c.scale > 6))
      throw bad(`columns.${name}.scale`, 'must be an integer in 0..6')
    if (
      c.domain !== undefined &&
      (!Array.isArray(c.domain) || c.domain.length > 10_000 || c.domain.some((v) => typeof v !== 'string'))
    ) {
      throw bad(`columns.${name}.domain`, 'must be a list of strings')
    }
    columns[name] = { ...c }
  }
  return {
    mode: p.mode,
    epsilonPerQueryMilli: eps,
    deltaPerQuery: delta,
    minGroupSize: k,
    allowMinMax: !!p.allowMinMax,
    maxGroups,
    allowJoin: p.allowJoin === true,
    allowUnion: p.allowUnion === true,
    columns,
  }
}

export type NormalizedPolicy = ReturnType<typeof normalizePolicy> & {
  /**
   * Set only by `combinePolicies` when DP assets are combined with aggregates-only ones: DP groups whose
   * noisy count is below the aggregates-only owners' largest minimum group size are not released
   * (post-processing of a DP release, so it costs no privacy and honours both kinds of owner).
   */
  releasedMinCount?: number
}

/**
 * The strictest combination of several assets' policies, for one query across them (R67): differential
 * privacy if any part asks for it, with the smallest ε per query and δ; the largest minimum group size; the
 * fewest groups; MIN/MAX only if every part allows them. Column policies keep their own table's rules under
 * the names `columns` maps them to. A DP release at the smallest ε is ε-DP for every part (Dwork & Roth
 * 2014, Def. 2.4: a smaller ε is a stronger guarantee), and each part's licence is charged that ε. When DP
 * and aggregates-only assets meet, DP groups are also suppressed below the aggregates-only owners' k.
 */
export function combinePolicies(parts: NormalizedPolicy[], columns: Record<string, ColumnPolicy>): NormalizedPolicy {
  if (parts.length === 0) throw new PolicyViolationError('no policies to combine')
  const dp = parts.filter((p) => p.mode === 'dp')
  const thresholded = parts.filter((p) => p.mode === 'aggregates-only')
  return {
    ...(dp.length && thresholded.length
      ? { releasedMinCount: Math.max(...thresholded.map((p) => p.minGroupSize)) }
      : {}),
    mode: dp.length > 0 ? 'dp' : 'aggregates-only',
    epsilonPerQueryMilli: Math.min(...(dp.length ? dp : parts).map((p) => p.epsilonPerQueryMilli)),
    deltaPerQuery: Math.min(...parts.map((p) => p.deltaPerQuery)),
    minGroupSize: Math.max(...parts.map((p) => p.minGroupSize)),
    allowMinMax: dp.length === 0 && parts.every((p) => p.allowMinMax),
    maxGroups: Math.min(...parts.map((p) => p.maxGroups)),
    allowJoin: parts.every((p) => p.allowJoin),
    allowUnion: parts.every((p) => p.allowUnion),
    columns,
  }
}
