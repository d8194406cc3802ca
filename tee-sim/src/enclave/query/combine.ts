// Queries across assets (R67): binds each part of a multi-asset request to its table name (parts sharing
// a name are stacked, UNION ALL), combines the owners' policies into the strictest one, and builds the
// one columnar dataset a plan runs over — stacked, then inner equi-joined with each row of every asset
// contributing to at most one joined row, so the DP sensitivities of the single-table engine still hold.
import { PolicyViolationError, QueryRejectedError } from '../../errors'
import { combinePolicies, type ColumnPolicy, type NormalizedPolicy } from '../../policy'
import type { Column, ColumnSchema, Dataset } from '../dataset'
import type { Predicate, QueryPlan, TableScope } from './plan'

/** One part as the enclave knows it from ingest. */
export interface PartSource {
  table: string
  schema: ColumnSchema[]
  policy: NormalizedPolicy
  defaultBounds: Record<string, [number, number]>
}

export interface BoundTables {
  tables: TableScope[]
  /** The strictest combination of every part's policy, columns named `table.column`. */
  policy: NormalizedPolicy
  defaultBounds: Record<string, [number, number]>
}

const sameSchema = (a: ColumnSchema[], b: ColumnSchema[]) =>
  a.length === b.length && a.every((c, i) => c.name === b[i].name && c.type === b[i].type)

/** The stricter of two owners' rules for one stacked column. */
function stricterColumn(a: ColumnPolicy | undefined, b: ColumnPolicy | undefined): ColumnPolicy | undefined {
  if (!a || !b) return a ?? b
  const bounds =
    a.bounds && b.bounds
      ? ([Math.max(a.bounds[0], b.bounds[0]), Math.min(a.bounds[1], b.bounds[1])] as [number, number])
      : (a.bounds ?? b.bounds)
  return {
    identifier: !!(a.identifier || b.identifier),
    ...(bounds && bounds[0] <= bounds[1] ? { bounds } : { bounds: a.bounds ?? b.bounds }),
    ...(a.scale !== undefined || b.scale !== undefined ? { scale: Math.min(a.scale ?? 6, b.scale ?? 6) } : {}),
    // A public domain stays public only when both owners declared one; then any key of either is public.
    ...(a.domain && b.domain ? { domain: [...new Set([...a.domain, ...b.domain])] } : {}),
  }
}

/**
 * Groups parts by table name and combines their policies. Stacking needs identical schemas and every
 * stacked owner's `allowUnion`; joining is checked per query by the planner (`allowJoin`).
 */
export function bindTables(parts: PartSource[]): BoundTables {
  const byTable = new Map<string, PartSource[]>()
  for (const p of parts) byTable.set(p.table, [...(byTable.get(p.table) ?? []), p])
  const columns: Record<string, ColumnPolicy> = {}
  const defaultBounds: Record<string, [number, number]> = {}
  const tables: TableScope[] = []
  for (const [name, group] of byTable) {
    if (group.length > 1) {
      if (group.some((p) => !sameSchema(p.schema, group[0].schema)))
        throw new QueryRejectedError(`the assets bound to table ${name} have different columns; they cannot be stacked`)
      if (group.some((p) => !p.policy.allowUnion))
        throw new PolicyViolationError(
          `an owner's policy does not allow stacking its asset with others (table ${name})`,
        )
    }
    const own: Record<string, ColumnPolicy> = {}
    for (const c of group[0].schema) {
      const rule = group
        .map((p) => p.policy.columns[c.name])
        .reduce<ColumnPolicy | undefined>(stricterColumn, undefined)
      if (rule) own[c.name] = columns[`${name}.${c.name}`] = rule
      const ranges = group.map((p) => p.defaultBounds[c.name])
      if (ranges.every(Boolean))
        defaultBounds[`${name}.${c.name}`] = [
          Math.min(...ranges.map((r) => r[0])),
          Math.max(...ranges.map((r) => r[1])),
        ]
    }
    tables.push({
      name,
      schema: group[0].schema,
      policy: combinePolicies(
        group.map((p) => p.policy),
        own,
      ),
    })
  }
  return {
    tables,
    policy: combinePolicies(
      parts.map((p) => p.policy),
      columns,
    ),
    defaultBounds,
  }
}

function predicateColumns(p: Predicate, out: Set<string>): void {
  if (p.op === 'and' || p.op === 'or') {
    predicateColumns(p.left, out)
    predicateColumns(p.right, out)
  } else if (p.op === 'not') predicateColumns(p.expr, out)
  else if ('column' in p) out.add(p.column)
}

/** Every `table.column` a multi-asset plan reads. */
export function planColumns(plan: QueryPlan): Set<string> {
  const out = new Set<string>(plan.groupBy)
  for (const m of plan.measurements) if (m.column) out.add(m.column)
  if (plan.where) predicateColumns(plan.where, out)
  for (const j of plan.joins ?? []) out.add(j.left).add(j.right)
  return out
}

/** Concatenates same-schema datasets column by column (UNION ALL); dictionaries are merged. */
export function stackDatasets(parts: Dataset[]): Dataset {
  if (parts.length === 1) return parts[0]
  const rowCount = parts.reduce((n, d) => n + d.rowCount, 0)
  const columns: Column[] = parts[0].columns.map((c0, ci) => {
    if ('values' in c0) {
      const values = new Float64Array(rowCount)
      let o = 0
      for (const d of parts) {
        const c = d.columns[ci] as typeof c0
        values.set(c.values, o)
        o += c.values.length
      }
      return { name: c0.name, type: c0.type, values }
    }
    const dict: string[] = []
    const index = new Map<string, number>()
    const codes = new Int32Array(rowCount)
    let o = 0
    for (const d of parts) {
      const c = d.columns[ci] as typeof c0
      const remap = c.dict.map((v) => {
        let k = index.get(v)
        if (k === undefined) index.set(v, (k = dict.push(v) - 1))
        return k
      })
      for (let i = 0; i < c.codes.length; i++) codes[o + i] = c.codes[i] < 0 ? -1 : remap[c.codes[i]]
      o += c.codes.length
    }
    return { name: c0.name, type: c0.type, codes, dict }
  })
  return { schema: parts[0].schema, rowCount, columns }
}

type Key = string | number

/** The join key of each row (null for NULL), comparable across tables. */
function keyReader(c: Column): (row: number) => Key | null {
  if ('values' in c) return (i) => (Number.isNaN(c.values[i]) ? null : c.values[i])
  return (i) => (c.codes[i] < 0 ? null : c.dict[c.codes[i]])
}

function gather(c: Column, rows: Int32Array, name: string): Column {
  if ('values' in c) {
    const values = new Float64Array(rows.length)
    for (let i = 0; i < rows.length; i++) values[i] = c.values[rows[i]]
    return { name, type: c.type, values }
  }
  const codes = new Int32Array(rows.length)
  for (let i = 0; i < rows.length; i++) codes[i] = c.codes[rows[i]]
  return { name, type: c.type, codes, dict: c.dict }
}

/**
 * One inner equi-join step with contribution bounding: for each key value, the first current row and the
 * first right row that carry it are paired once. Returns the kept current rows and their right rows.
 */
function joinStep(
  leftRows: Int32Array,
  leftCol: Column,
  rightCol: Column,
  rightCount: number,
): { keep: number[]; matched: number[] } {
  const keep: number[] = []
  const matched: number[] = []
  if ('codes' in leftCol && 'codes' in rightCol) {
    // Text keys (the PSI case): translate the left dictionary to right codes once, then integers per row.
    const rightCode = new Map(rightCol.dict.map((v, k) => [v, k]))
    const toRight = Int32Array.from(leftCol.dict, (v) => rightCode.get(v) ?? -1)
    const firstRight = new Int32Array(rightCol.dict.length).fill(-1)
    for (let i = 0; i < rightCount; i++) {
      const k = rightCol.codes[i]
      if (k >= 0 && firstRight[k] < 0) firstRight[k] = i
    }
    const used = new Uint8Array(rightCol.dict.length)
    for (let r = 0; r < leftRows.length; r++) {
      const code = leftCol.codes[leftRows[r]]
      const k = code < 0 ? -1 : toRight[code]
      if (k < 0 || used[k] || firstRight[k] < 0) continue
      used[k] = 1
      keep.push(r)
      matched.push(firstRight[k])
    }
    return { keep, matched }
  }
  const leftKey = keyReader(leftCol)
  const rightKey = keyReader(rightCol)
  const firstRight = new Map<Key, number>()
  for (let i = 0; i < rightCount; i++) {
    const k = rightKey(i)
    if (k !== null && !firstRight.has(k)) firstRight.set(k, i)
  }
  const seen = new Set<Key>()
  for (let r = 0; r < leftRows.length; r++) {
    const k = leftKey(leftRows[r])
    if (k === null || seen.has(k)) continue
    seen.add(k)
    const m = firstRight.get(k)
    if (m === undefined) continue
    keep.push(r)
    matched.push(m)
  }
  return { keep, matched }
}

/**
 * The dataset a multi-asset plan runs over: the plan's tables joined in FROM order, with only the
 * columns the plan reads, named `table.column`. Each inner join keeps, per key value, the first row on
 * either side, so every source row contributes to at most one joined row (contribution bounding, Wilson
 * et al. 2020, "Differentially private SQL with bounded user contribution", §3): adding or removing one
 * row of any asset changes each count by at most 1 and each clamped sum by at most its bound.
 */
export function joinTables(plan: QueryPlan, tables: Map<string, Dataset>): Dataset {
  const order = plan.tables ?? []
  const rowsOf = new Map<string, Int32Array>()
  const first = tables.get(order[0])!
  rowsOf.set(
    order[0],
    Int32Array.from({ length: first.rowCount }, (_, i) => i),
  )
  const columnOf = (qualified: string): Column => {
    const dot = qualified.indexOf('.')
    return tables.get(qualified.slice(0, dot))!.columns.find((c) => c.name === qualified.slice(dot + 1))!
  }
  for (const step of plan.joins ?? []) {
    const leftTable = step.left.slice(0, step.left.indexOf('.'))
    const leftRows = rowsOf.get(leftTable)!
    const right = tables.get(step.table)!
    const { keep, matched } = joinStep(leftRows, columnOf(step.left), columnOf(step.right), right.rowCount)
    for (const [t, rows] of rowsOf)
      rowsOf.set(
        t,
        Int32Array.from(keep, (r) => rows[r]),
      )
    rowsOf.set(step.table, Int32Array.from(matched))
  }
  const rowCount = rowsOf.get(order[0])!.length
  const columns: Column[] = []
  const schema: ColumnSchema[] = []
  for (const qualified of planColumns(plan)) {
    const table = qualified.slice(0, qualified.indexOf('.'))
    const c = gather(columnOf(qualified), rowsOf.get(table)!, qualified)
    columns.push(c)
    schema.push({ name: qualified, type: c.type })
  }
  return { schema, rowCount, columns }
}
