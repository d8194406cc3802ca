// Runs a planned query over a columnar dataset and releases the result: exact per-group
// measurements are computed inside the enclave, then either perturbed with discrete Laplace noise
// and τ-thresholded (DP) or suppressed below k (aggregates-only). Only the release leaves.
import { PolicyViolationError } from '../../errors'
import type { NormalizedPolicy } from '../../policy'
import type { Column, Dataset } from '../dataset'
import { groupThreshold, laplaceForEpsilon } from '../dp/noise'
import type { RandomSource } from '../dp/random'
import type { Literal, Measurement, Predicate, QueryPlan } from './plan'

export type Cell = string | number | null

export interface QueryResult {
  columns: string[]
  rows: Cell[][]
  privacy: {
    mode: 'dp' | 'aggregates-only'
    epsilonSpentMilli: number
    delta: number | null
    /** τ for data-dependent GROUP BY keys (DP), or null when keys are public / there is no GROUP BY. */
    threshold: number | null
    minGroupSize: number | null
    /** Clamping bounds used for SUM/AVG (DP). */
    clamping: Record<string, [number, number]>
  }
}

// ---- predicates: Kleene three-valued logic (0 false, 1 true, 2 unknown), as SQL does with NULL
type Eval = (row: number) => 0 | 1 | 2

function compileLiteralTest(col: Column, test: (v: number | string) => boolean): Eval {
  if ('values' in col) {
    const vals = col.values
    return (i) => (Number.isNaN(vals[i]) ? 2 : test(vals[i]) ? 1 : 0)
  }
  // Evaluate once per dictionary entry, then per row is a lookup.
  const memo = new Uint8Array(col.dict.length)
  col.dict.forEach((v, k) => (memo[k] = test(v) ? 1 : 0))
  const codes = col.codes
  return (i) => (codes[i] < 0 ? 2 : (memo[codes[i]] as 0 | 1))
}

function likeToRegExp(pattern: string): RegExp {
  let re = ''
  for (const ch of pattern) re += ch === '%' ? '.*' : ch === '_' ? '.' : ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`^${re}$`, 's')
}

function compile(p: Predicate, data: Dataset): Eval {
  const col = (name: string) => data.columns.find((c) => c.name === name)!
  switch (p.op) {
    case 'and': {
      const l = compile(p.left, data)
      const r = compile(p.right, data)
      return (i) => {
        const a = l(i)
        if (a === 0) return 0
        const b = r(i)
        return b === 0 ? 0 : a === 1 && b === 1 ? 1 : 2
      }
    }
    case 'or': {
      const l = compile(p.left, data)
      const r = compile(p.right, data)
      return (i) => {
        const a = l(i)
        if (a === 1) return 1
        const b = r(i)
        return b === 1 ? 1 : a === 0 && b === 0 ? 0 : 2
      }
    }
    case 'not': {
      const e = compile(p.expr, data)
      return (i) => {
        const a = e(i)
        return a === 2 ? 2 : a === 1 ? 0 : 1
      }
    }
    case 'isnull': {
      const c = col(p.column)
      const isNull = 'values' in c ? (i: number) => Number.isNaN(c.values[i]) : (i: number) => c.codes[i] < 0
      return (i) => (isNull(i) !== p.negated ? 1 : 0)
    }
    case 'cmp': {
      const v = p.value as number | string
      const tests: Record<string, (x: number | string) => boolean> = {
        '=': (x) => x === v,
        '!=': (x) => x !== v,
        '<': (x) => x < v,
        '<=': (x) => x <= v,
        '>': (x) => x > v,
        '>=': (x) => x >= v,
      }
      return compileLiteralTest(col(p.column), tests[p.cmp])
    }
    case 'in': {
      const set = new Set<Literal>(p.values)
      return compileLiteralTest(col(p.column), (x) => set.has(x) !== p.negated)
    }
    case 'between':
      return compileLiteralTest(col(p.column), (x) => ((x as number) >= p.lo && (x as number) <= p.hi) !== p.negated)
    case 'like': {
      const re = likeToRegExp(p.pattern)
      return compileLiteralTest(col(p.column), (x) => re.test(String(x)) !== p.negated)
    }
  }
}

// ---- exact aggregation per group
interface Groups {
  keys: Cell[][]
  /** values[m][g] for measurement m and group g. */
  values: Float64Array[]
}

interface SumSpec {
  lo: number
  hi: number
  scale: number
  factor: number
}

function cellOf(c: Column, i: number): Cell {
  if ('values' in c) return Number.isNaN(c.values[i]) ? null : c.values[i]
  return c.codes[i] < 0 ? null : c.dict[c.codes[i]]
}

function aggregate(plan: QueryPlan, data: Dataset, sums: Map<string, SumSpec> | null): Groups {
  const n = data.rowCount
  const pred = plan.where ? compile(plan.where, data) : null
  const byName = new Map(data.columns.map((c) => [c.name, c]))
  const groupCols = plan.groupBy.map((g) => byName.get(g)!)
  // Group index per row: fast path for one dictionary-encoded column; otherwise a Map on a composite key.
  const keys: Cell[][] = []
  let groupOf: (i: number) => number
  if (groupCols.length === 0) {
    keys.push([])
    groupOf = () => 0
  } else if (groupCols.length === 1 && 'codes' in groupCols[0]) {
    const c = groupCols[0]
    const slot = new Int32Array(c.dict.length + 1).fill(-1)
    groupOf = (i) => {
      const k = c.codes[i] + 1
      let g = slot[k]
      if (g < 0) {
        g = slot[k] = keys.length
        keys.push([k === 0 ? null : c.dict[k - 1]])
      }
      return g
    }
  } else {
    const map = new Map<string, number>()
    groupOf = (i) => {
      const parts = groupCols.map((c) => cellOf(c, i))
      const k = JSON.stringify(parts)
      let g = map.get(k)
      if (g === undefined) {
        g = keys.length
        map.set(k, g)
        keys.push(parts)
      }
      return g
    }
  }
  const ms = plan.measurements
  const acc: number[][] = ms.map(() => [])
  const feeds = ms.map((m, mi): ((i: number, g: number) => void) => {
    const a = acc[mi]
    if (m.kind === 'count' && m.column === null) return (_i, g) => (a[g] = (a[g] ?? 0) + 1)
    const c = byName.get(m.column!)!
    if (m.kind === 'count') {
      if ('values' in c) return (i, g) => (a[g] = (a[g] ?? 0) + (Number.isNaN(c.values[i]) ? 0 : 1))
      return (i, g) => (a[g] = (a[g] ?? 0) + (c.codes[i] < 0 ? 0 : 1))
    }
    const vals = (c as Extract<Column, { values: Float64Array }>).values
    if (m.kind === 'sum') {
      const spec = sums?.get(m.column!)
      if (spec) {
        // Clamp, then fixed-point: integer sums get integer (discrete) noise.
        return (i, g) => {
          const v = vals[i]
          if (Number.isNaN(v)) return
          a[g] = (a[g] ?? 0) + Math.round((v < spec.lo ? spec.lo : v > spec.hi ? spec.hi : v) * spec.factor)
        }
      }
      return (i, g) => {
        const v = vals[i]
        if (!Number.isNaN(v)) a[g] = (a[g] ?? 0) + v
      }
    }
    const better = m.kind === 'min' ? (x: number, y: number) => x < y : (x: number, y: number) => x > y
    return (i, g) => {
      const v = vals[i]
      if (!Number.isNaN(v) && (a[g] === undefined || better(v, a[g]))) a[g] = v
    }
  })
  for (let i = 0; i < n; i++) {
    if (pred && pred(i) !== 1) continue
    const g = groupOf(i)
    for (let m = 0; m < feeds.length; m++) feeds[m](i, g)
  }
  return {
    keys,
    values: acc.map((a, mi) =>
      Float64Array.from(
        { length: keys.length },
        (_, g) => a[g] ?? (ms[mi].kind === 'min' || ms[mi].kind === 'max' ? NaN : 0),
      ),
    ),
  }
}

function mKey(m: Measurement): string {
  return `${m.kind}:${m.column ?? '*'}`
}

/** Runs the plan and releases it under the policy. `defaultBounds` come from the DP ranges of ingest. */
export function runQuery(
  plan: QueryPlan,
  data: Dataset,
  policy: NormalizedPolicy,
  defaultBounds: Record<string, [number, number]>,
  rng: RandomSource,
): QueryResult {
  const dp = policy.mode === 'dp'
  const sums = new Map<string, SumSpec>()
  if (dp) {
    for (const m of plan.measurements) {
      if (m.kind !== 'sum') continue
      const bounds = policy.columns[m.column]?.bounds ?? defaultBounds[m.column]
      if (!bounds)
        throw new PolicyViolationError(
          `SUM/AVG(${m.column}) needs clamping bounds; the owner's policy sets none and ingest released no range`,
        )
      const type = data.schema.find((c) => c.name === m.column)!.type
      const scale = policy.columns[m.column]?.scale ?? (type === 'integer' ? 0 : 2)
      const factor = 10 ** scale
      const sens = Math.max(1, Math.abs(Math.round(bounds[0] * factor)), Math.abs(Math.round(bounds[1] * factor)))
      if (sens > 2 ** 30)
        throw new PolicyViolationError(
          `clamping bounds of ${m.column} are too wide for DP noise at scale ${scale}; the owner should set tighter bounds`,
        )
      sums.set(m.column, { lo: bounds[0], hi: bounds[1], scale, factor })
    }
  }
  const groups = aggregate(plan, data, dp ? sums : null)
  const index = new Map(plan.measurements.map((m, i) => [mKey(m), i]))
  const countStar = index.get('count:*')!

  // Public GROUP BY domains: every declared key is released (even empty), nothing else.
  const domains = plan.groupBy.map((g) => policy.columns[g]?.domain)
  const publicKeys = plan.groupBy.length === 0 || domains.every((d) => d !== undefined)
  let keys = groups.keys
  let pick = keys.map((_, g) => g)
  if (plan.groupBy.length > 0 && publicKeys) {
    let combos: Cell[][] = [[]]
    for (const d of domains) combos = combos.flatMap((c) => d!.map((v) => [...c, v]))
    if (combos.length > policy.maxGroups)
      throw new PolicyViolationError(`GROUP BY over public domains has more than ${policy.maxGroups} groups`)
    const at = new Map(keys.map((k, g) => [JSON.stringify(k.map(String)), g]))
    keys = combos
    pick = combos.map((k) => at.get(JSON.stringify(k.map(String))) ?? -1)
  }
  const exact = (mi: number, slot: number) =>
    pick[slot] < 0
      ? plan.measurements[mi].kind === 'min' || plan.measurements[mi].kind === 'max'
        ? NaN
        : 0
      : groups.values[mi][pick[slot]]

  const eps = plan.epsilonPerMeasurementMilli
  const tau = dp && !publicKeys ? groupThreshold(eps, policy.deltaPerQuery) : null
  const rows: Cell[][] = []
  for (let slot = 0; slot < keys.length; slot++) {
    const released = new Map<string, number>()
    if (dp) {
      for (const [k, mi] of index) {
        const m = plan.measurements[mi]
        const sens =
          m.kind === 'sum'
            ? Math.max(
                1,
                Math.abs(Math.round(sums.get(m.column)!.lo * sums.get(m.column)!.factor)),
                Math.abs(Math.round(sums.get(m.column)!.hi * sums.get(m.column)!.factor)),
              )
            : 1
        released.set(k, exact(mi, slot) + laplaceForEpsilon(rng, eps, sens))
      }
      if (tau !== null && released.get('count:*')! < tau) continue
      if (policy.releasedMinCount !== undefined && released.get('count:*')! < policy.releasedMinCount) continue
    } else {
      if (exact(countStar, slot) < policy.minGroupSize) continue
      for (const [k, mi] of index) released.set(k, exact(mi, slot))
    }
    const row: Cell[] = plan.outputs.map((o) => {
      if (o.kind === 'group') return keys[slot][plan.groupBy.indexOf(o.column)]
      const col = o.column
      const spec = col ? sums.get(col) : undefined
      const round = (x: number) => (spec ? Math.round(x * spec.factor) / spec.factor : x)
      switch (o.fn) {
        case 'COUNT':
          return Math.max(0, released.get(`count:${col ?? '*'}`)!)
        case 'SUM':
          return dp ? round(released.get(`sum:${col}`)! / spec!.factor) : released.get(`sum:${col}`)!
        case 'AVG': {
          const cnt = released.get(`count:${col}`)!
          if (!dp) return cnt > 0 ? released.get(`sum:${col}`)! / cnt : null
          const avg = released.get(`sum:${col}`)! / spec!.factor / Math.max(1, cnt)
          return round(Math.min(spec!.hi, Math.max(spec!.lo, avg)))
        }
        case 'MIN':
        case 'MAX': {
          const v = released.get(`${o.fn.toLowerCase()}:${col}`)!
          return Number.isNaN(v) ? null : v
        }
      }
    })
    rows.push(row)
  }

  // ORDER BY / OFFSET / LIMIT on released values only (post-processing costs no privacy).
  const cmp = (a: Cell, b: Cell) => (a === b ? 0 : a === null ? 1 : b === null ? -1 : a < b ? -1 : 1)
  const order = plan.orderBy.length
    ? plan.orderBy
    : plan.outputs.map((o, i) => ({ output: i, desc: false })).filter((o) => plan.outputs[o.output].kind === 'group')
  rows.sort((x, y) => {
    for (const o of order) {
      const c = cmp(x[o.output], y[o.output])
      if (c !== 0) return o.desc ? -c : c
    }
    return 0
  })
  const limit = Math.min(plan.limit ?? policy.maxGroups, policy.maxGroups)
  const clamping: Record<string, [number, number]> = {}
  for (const [c, s] of sums) clamping[c] = [s.lo, s.hi]
  return {
    columns: plan.outputs.map((o) => o.label),
    rows: rows.slice(plan.offset, plan.offset + limit),
    privacy: {
      mode: policy.mode,
      epsilonSpentMilli: plan.epsilonMilli,
      delta: dp && tau !== null ? policy.deltaPerQuery : null,
      threshold: tau,
      minGroupSize: dp ? null : policy.minGroupSize,
      clamping,
    },
  }
}
