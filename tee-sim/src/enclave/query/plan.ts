// The SQL subset: parsed with node-sql-parser (sqlite dialect build), then validated against the
// dataset schema and the owner's policy, and planned into measurements for the DP release.
// Anything outside the subset is rejected with a precise QueryRejectedError / PolicyViolationError.
// A job over one asset names the table `data`; a job across assets (R67) names the tables its signed
// request binds, and may equi-join them (`FROM a JOIN b ON a.id = b.id`).
import sqlParser from 'node-sql-parser/build/sqlite'
import { PolicyViolationError, QueryRejectedError } from '../../errors'
import type { NormalizedPolicy } from '../../policy'
import type { ColumnSchema, ColumnType } from '../dataset'

const { Parser } = sqlParser as unknown as {
  Parser: new () => { astify(sql: string, opt: { database: string }): unknown }
}
const parser = new Parser()

export const TABLE_NAME = 'data'
export const MAX_QUERY_LENGTH = 4096
const MAX_GROUP_COLUMNS = 3

export type Literal = number | string | boolean | null
export type Predicate =
  | { op: 'and' | 'or'; left: Predicate; right: Predicate }
  | { op: 'not'; expr: Predicate }
  | { op: 'cmp'; cmp: '=' | '!=' | '<' | '<=' | '>' | '>='; column: string; value: Literal }
  | { op: 'in'; column: string; values: Literal[]; negated: boolean }
  | { op: 'between'; column: string; lo: number; hi: number; negated: boolean }
  | { op: 'isnull'; column: string; negated: boolean }
  | { op: 'like'; column: string; pattern: string; negated: boolean }

export type AggregateFn = 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX'
/** A quantity computed per group and released (with noise under DP). */
export type Measurement = { kind: 'count'; column: string | null } | { kind: 'sum' | 'min' | 'max'; column: string }

export type OutputItem =
  | { kind: 'group'; column: string; label: string }
  | { kind: 'agg'; fn: AggregateFn; column: string | null; label: string }

/** An inner equi-join step: `table` joins the rows so far on `left` (an earlier table's column) = `right`. */
export interface JoinStep {
  table: string
  left: string
  right: string
}

export interface QueryPlan {
  /** Tables in FROM order (multi-asset plans only; column names are then `table.column`). */
  tables?: string[]
  joins?: JoinStep[]
  groupBy: string[]
  outputs: OutputItem[]
  where: Predicate | null
  orderBy: { output: number; desc: boolean }[]
  limit: number | null
  offset: number
  measurements: Measurement[]
  /** ε (×1000) per measurement and in total; 0 for aggregates-only. */
  epsilonPerMeasurementMilli: number
  epsilonMilli: number
}

type Node = Record<string, unknown> & { type?: string }

const reject = (msg: string, details?: string) => new QueryRejectedError(msg, { details })

/** Finds nested SELECTs anywhere below the top statement (sub-queries in FROM, IN, EXISTS, scalars). */
function hasNestedSelect(node: unknown, top: boolean): boolean {
  if (Array.isArray(node)) return node.some((n) => hasNestedSelect(n, false))
  if (typeof node !== 'object' || node === null) return false
  const n = node as Node
  if (!top && (n.type === 'select' || 'ast' in n)) return true
  return Object.values(n).some((v) => hasNestedSelect(v, false))
}

/** The dataset column an ORDER BY reference names, or undefined (it may name an alias instead). */
function tryResolve(scope: Scope, e: Node): string | undefined {
  try {
    return scope.resolve((e.table as string | null) ?? null, String(e.type === 'column_ref' ? e.column : e.value))
  } catch {
    // Not a column: the caller then reports "ORDER BY must name a selected column, alias or position".
    return undefined
  }
}

function measurementKey(m: Measurement): string {
  return `${m.kind}:${m.column ?? '*'}`
}

/** A quoted string or name, kept as is; or a bare word with a letter or digit beyond ASCII (城市). */
const QUOTED_OR_WIDE =
  /('(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`)|([\p{L}\p{N}_]*(?:(?![\x00-\x7F])[\p{L}\p{N}])[\p{L}\p{N}_]*)/gu

/**
 * The query with every bare non-ASCII word quoted as a name. SQLite reads `SELECT 城市 …` as a column, but
 * the parser only knows ASCII names, and a dataset's columns may be in any script. Only the text handed to
 * the parser changes: the query the buyer signed (and its hash in the receipt) is the one written.
 */
function quoteWideNames(sql: string): string {
  return sql.replace(QUOTED_OR_WIDE, (whole, quoted: string | undefined) => quoted ?? `\`${whole}\``)
}

function parseSelect(sql: string): Node {
  if (typeof sql !== 'string' || sql.trim() === '') throw reject('query is empty')
  if (sql.length > MAX_QUERY_LENGTH) throw reject(`query is longer than ${MAX_QUERY_LENGTH} characters`)
  let ast: unknown
  try {
    ast = parser.astify(quoteWideNames(sql), { database: 'sqlite' })
  } catch (cause) {
    throw new QueryRejectedError('query does not parse as SQL', {
      cause,
      details: (cause as Error).message?.split('\n')[0],
    })
  }
  if (Array.isArray(ast)) {
    if (ast.length !== 1) throw reject('exactly one statement is allowed')
    ast = ast[0]
  }
  const s = ast as Node
  if (s.type !== 'select') throw reject(`only SELECT is allowed, not ${String(s.type).toUpperCase()}`)
  if (s.with) throw reject('WITH (common table expressions) is not allowed')
  if (s._next || s.set_op)
    throw reject('UNION / INTERSECT / EXCEPT are not allowed; to stack assets, bind them to one table name')
  if (hasNestedSelect(s, true)) throw reject('sub-queries are not allowed')
  if (s.distinct) throw reject('SELECT DISTINCT would expose values; use GROUP BY with an aggregate')
  if (s.having) throw reject('HAVING is not supported; filter the released groups instead')
  if (s.for_update || s.into) throw reject('only plain SELECT is allowed')
  const from = s.from as Node[] | null
  if (!Array.isArray(from) || from.length === 0) throw reject('a FROM clause is required')
  return s
}

/** How column references resolve: to the dataset column name the executor uses, and its type. */
interface Scope {
  /** `joinKey` resolves ON-clause columns, which may be identifiers: their values are never released. */
  resolve(qualifier: string | null, column: string, joinKey?: boolean): string
  type(name: string): ColumnType
  names(): string[]
}

const withheld = (name: string) =>
  new PolicyViolationError(`column "${name}" is an identifier the owner's policy withholds`)

/** Plans a query over one asset, the table `data` (the single-asset job). */
export function planQuery(sql: string, schema: ColumnSchema[], policy: NormalizedPolicy): QueryPlan {
  const s = parseSelect(sql)
  const from = s.from as Node[]
  if (from.length > 1 || from[0].join) throw new PolicyViolationError("joins are not allowed by this asset's policy")
  if (typeof from[0].table !== 'string' || from[0].table.toLowerCase() !== TABLE_NAME) {
    throw reject(`the dataset is the table "${TABLE_NAME}"`, `got ${String(from[0].table)}`)
  }
  const alias = (from[0].as as string | null) ?? null
  const byName = new Map(schema.map((c) => [c.name, c]))
  const scope: Scope = {
    resolve(qualifier, name) {
      if (qualifier && qualifier !== alias && qualifier.toLowerCase() !== TABLE_NAME)
        throw reject(`unknown table ${qualifier}`)
      if (!byName.has(name))
        throw reject(`unknown column "${name}"`, `columns: ${schema.map((c) => c.name).join(', ')}`)
      if (policy.columns[name]?.identifier) throw withheld(name)
      return name
    },
    type: (name) => byName.get(name)!.type,
    names: () => schema.map((c) => c.name),
  }
  return planSelect(s, scope, policy)
}

/** One table of a multi-asset query: its name as the signed request binds it, its columns and policy. */
export interface TableScope {
  name: string
  schema: ColumnSchema[]
  policy: NormalizedPolicy
}

export const MAX_JOINED_TABLES = 4

/**
 * Plans a query over the tables a multi-asset request binds (R67). FROM names one table or an inner
 * equi-join chain (`a JOIN b ON a.k = b.k [JOIN c ON …]`); every column is planned as `table.column`
 * and `policy` is the strictest combination of the tables' policies (`combinePolicies`). Joining needs
 * every joined table's owner to allow it (`allowJoin`).
 */
export function planMultiQuery(sql: string, tables: TableScope[], policy: NormalizedPolicy): QueryPlan {
  const s = parseSelect(sql)
  const from = s.from as Node[]
  if (from.length > MAX_JOINED_TABLES) throw reject(`at most ${MAX_JOINED_TABLES} tables per query`)
  const bound = new Map(tables.map((t) => [t.name, t]))
  const byRef = new Map<string, TableScope>()
  const used: TableScope[] = []
  for (const [i, f] of from.entries()) {
    const t = typeof f.table === 'string' ? bound.get(f.table.toLowerCase()) : undefined
    if (!t) throw reject(`unknown table ${String(f.table)}`, `the request binds: ${[...bound.keys()].join(', ')}`)
    if (used.includes(t)) throw reject(`table ${t.name} appears twice; self-joins are not supported`)
    if (i > 0 && !f.join) throw reject('list tables with JOIN … ON, not commas')
    used.push(t)
    byRef.set(t.name, t)
    if (typeof f.as === 'string') byRef.set(f.as, t)
  }
  const unused = tables.filter((t) => !used.includes(t)).map((t) => t.name)
  if (unused.length) throw reject(`the request binds tables the query does not use: ${unused.join(', ')}`)
  const column = (t: TableScope, name: string) => t.schema.find((c) => c.name === name)
  const scope: Scope = {
    resolve(qualifier, name, joinKey = false) {
      let t: TableScope | undefined
      if (qualifier) {
        t = byRef.get(qualifier)
        if (!t) throw reject(`unknown table ${qualifier}`)
      } else {
        const having = used.filter((u) => column(u, name))
        if (having.length > 1)
          throw reject(`column "${name}" is in several tables; qualify it (${having[0].name}.${name})`)
        t = having[0]
      }
      if (!t || !column(t, name)) throw reject(`unknown column "${qualifier ? `${qualifier}.` : ''}${name}"`)
      if (!joinKey && t.policy.columns[name]?.identifier) throw withheld(`${t.name}.${name}`)
      return `${t.name}.${name}`
    },
    type(name) {
      const dot = name.indexOf('.')
      return column(bound.get(name.slice(0, dot))!, name.slice(dot + 1))!.type
    },
    names: () => used.flatMap((t) => t.schema.map((c) => `${t.name}.${c.name}`)),
  }
  const joins: JoinStep[] = []
  for (const [i, f] of from.entries()) {
    if (i === 0) continue
    const t = used[i]
    if (String(f.join).replace(/\s+/g, ' ').toUpperCase() !== 'INNER JOIN')
      throw reject(`${String(f.join)} is not supported; use [INNER] JOIN … ON a.k = b.k`)
    for (const u of used.slice(0, i + 1)) {
      if (!u.policy.allowJoin)
        throw new PolicyViolationError(`the owner's policy of table ${u.name} does not allow joins with other assets`)
    }
    const on = f.on as Node | undefined
    if (!on || on.type !== 'binary_expr' || on.operator !== '=')
      throw reject('JOIN needs ON with one equality of two columns (a.k = b.k)')
    const l = on.left as Node
    const r = on.right as Node
    if (l.type !== 'column_ref' || r.type !== 'column_ref') throw reject('JOIN … ON must compare two columns')
    let left = scope.resolve((l.table as string | null) ?? null, String(l.column), true)
    let right = scope.resolve((r.table as string | null) ?? null, String(r.column), true)
    if (left.startsWith(`${t.name}.`)) [left, right] = [right, left]
    const earlier = new Set(used.slice(0, i).map((u) => u.name))
    if (!right.startsWith(`${t.name}.`) || !earlier.has(left.slice(0, left.indexOf('.'))))
      throw reject(`JOIN ${t.name} ON must compare a column of ${t.name} with a column of an earlier table`)
    const numeric = (n: string) => scope.type(n) === 'integer' || scope.type(n) === 'number'
    if (numeric(left) !== numeric(right) || (!numeric(left) && scope.type(left) !== scope.type(right)))
      throw reject(`cannot join ${left} (${scope.type(left)}) with ${right} (${scope.type(right)})`)
    joins.push({ table: t.name, left, right })
  }
  return { ...planSelect(s, scope, policy), tables: used.map((t) => t.name), joins }
}

function planSelect(s: Node, scope: Scope, policy: NormalizedPolicy): QueryPlan {
  const columnOf = (e: Node, where: string, allowString = false): string => {
    let name: string | undefined
    let qualifier: string | null = null
    if (e.type === 'column_ref') {
      qualifier = (e.table as string | null) ?? null
      name = String(e.column)
    } else if (allowString && e.type === 'double_quote_string') name = String(e.value)
    if (name === undefined) throw reject(`${where} must be a column name`)
    if (name === '*') throw reject('SELECT * would expose rows; select aggregates such as COUNT(*), SUM(col), AVG(col)')
    return scope.resolve(qualifier, name)
  }
  const isNumeric = (name: string) => {
    const t = scope.type(name)
    return t === 'integer' || t === 'number'
  }

  // ---- GROUP BY
  const groupNodes = ((s.groupby as Node | null)?.columns as Node[] | undefined) ?? []
  if (groupNodes.length > MAX_GROUP_COLUMNS) throw reject(`at most ${MAX_GROUP_COLUMNS} GROUP BY columns`)
  const groupBy = groupNodes.map((g) => columnOf(g, 'GROUP BY item', true))

  // ---- SELECT list
  const cols = s.columns as Node[] | string
  if (cols === '*' || !Array.isArray(cols))
    throw reject('SELECT * would expose rows; select aggregates such as COUNT(*), SUM(col), AVG(col)')
  const outputs: OutputItem[] = []
  const measurements = new Map<string, Measurement>([['count:*', { kind: 'count', column: null }]])
  const addM = (m: Measurement) => measurements.set(measurementKey(m), m)
  for (const item of cols) {
    const e = item.expr as Node
    const as = (item.as as string | null) ?? null
    if (e.type === 'column_ref' || e.type === 'double_quote_string') {
      const name = columnOf(e, 'SELECT item', true)
      if (!groupBy.includes(name)) throw reject(`column "${name}" must appear in GROUP BY or inside an aggregate`)
      outputs.push({ kind: 'group', column: name, label: as ?? String(e.type === 'column_ref' ? e.column : e.value) })
      continue
    }
    if (e.type !== 'aggr_func')
      throw reject('SELECT items must be aggregates (COUNT, SUM, AVG, MIN, MAX) or GROUP BY columns')
    const fn = String(e.name).toUpperCase() as AggregateFn
    const args = e.args as Node
    if (!['COUNT', 'SUM', 'AVG', 'MIN', 'MAX'].includes(fn)) throw reject(`aggregate ${fn} is not supported`)
    if (args?.distinct) throw reject(`${fn}(DISTINCT …) is not supported`)
    const arg = args?.expr as Node
    let column: string | null = null
    if (arg?.type === 'star') {
      if (fn !== 'COUNT') throw reject(`${fn}(*) is not valid`)
    } else column = columnOf(arg ?? {}, `${fn} argument`, true)
    if (fn === 'MIN' || fn === 'MAX') {
      if (policy.mode === 'dp')
        throw new PolicyViolationError(
          `${fn} is not differentially private and is not available under this asset's DP policy`,
        )
      if (!policy.allowMinMax) throw new PolicyViolationError(`${fn} is not allowed by this asset's policy`)
    }
    if ((fn === 'SUM' || fn === 'AVG' || fn === 'MIN' || fn === 'MAX') && !isNumeric(column!))
      throw reject(`${fn}(${column}) needs a numeric column`)
    if (fn === 'COUNT') addM({ kind: 'count', column })
    if (fn === 'SUM' || fn === 'AVG') addM({ kind: 'sum', column: column! })
    if (fn === 'AVG') addM({ kind: 'count', column: column! })
    if (fn === 'MIN' || fn === 'MAX') addM({ kind: fn === 'MIN' ? 'min' : 'max', column: column! })
    outputs.push({ kind: 'agg', fn, column, label: as ?? `${fn.toLowerCase()}(${column ?? '*'})` })
  }
  if (!outputs.some((o) => o.kind === 'agg')) throw reject('select at least one aggregate (COUNT, SUM, AVG, MIN, MAX)')

  // ---- WHERE
  const literal = (e: Node, column: string): Literal => {
    const t = scope.type(column)
    let v: Literal
    if (e.type === 'number') v = Number(e.value)
    // node-sql-parser keeps SQL's doubled quotes ('it''s') escaped; undo that here.
    else if (e.type === 'single_quote_string' || e.type === 'string') v = String(e.value).replace(/''/g, "'")
    else if (e.type === 'double_quote_string') v = String(e.value).replace(/""/g, '"')
    else if (e.type === 'bool' || e.type === 'boolean') v = Boolean(e.value)
    else if (e.type === 'null') v = null
    else if (e.type === 'unary_expr' && e.operator === '-' && (e.expr as Node).type === 'number')
      v = -Number((e.expr as Node).value)
    else throw reject(`comparisons with "${column}" must use a literal value`)
    if (v === null) return v
    if ((t === 'integer' || t === 'number') && typeof v !== 'number')
      throw reject(`"${column}" is numeric; compare it with a number`)
    if (t === 'string' && typeof v !== 'string') throw reject(`"${column}" is text; compare it with a quoted string`)
    if (t === 'boolean') {
      if (typeof v === 'string' && (v.toLowerCase() === 'true' || v.toLowerCase() === 'false')) return v.toLowerCase()
      if (typeof v === 'boolean') return String(v)
      throw reject(`"${column}" is boolean; compare it with true or false`)
    }
    return v
  }
  const predicate = (e: Node): Predicate => {
    if (e.type === 'unary_expr' && String(e.operator).toUpperCase() === 'NOT')
      return { op: 'not', expr: predicate(e.expr as Node) }
    if (e.type === 'function' && JSON.stringify(e.name).toUpperCase().includes('"NOT"')) {
      const a = ((e.args as Node)?.value as Node[]) ?? []
      if (a.length !== 1) throw reject('NOT takes one condition')
      return { op: 'not', expr: predicate(a[0]) }
    }
    if (e.type !== 'binary_expr')
      throw reject('WHERE supports comparisons, IN, BETWEEN, LIKE, IS [NOT] NULL, AND, OR, NOT')
    const op = String(e.operator).toUpperCase()
    const left = e.left as Node
    const right = e.right as Node
    if (op === 'AND' || op === 'OR')
      return { op: op === 'AND' ? 'and' : 'or', left: predicate(left), right: predicate(right) }
    // The left side is always a column, so a double-quoted word there is a name (as SQLite reads
    // "城市" = '北京'); on the right it stays a literal.
    const column = columnOf(left, 'the left side of a comparison', true)
    if (op === 'IS' || op === 'IS NOT') {
      if (right.type !== 'null') throw reject('IS / IS NOT must be followed by NULL')
      return { op: 'isnull', column, negated: op === 'IS NOT' }
    }
    if (op === 'IN' || op === 'NOT IN') {
      const values = ((right.value as Node[]) ?? []).map((v) => literal(v, column))
      if (values.length === 0 || values.length > 1000) throw reject('IN needs 1 to 1000 literal values')
      return { op: 'in', column, values, negated: op === 'NOT IN' }
    }
    if (op === 'BETWEEN' || op === 'NOT BETWEEN') {
      const [lo, hi] = ((right.value as Node[]) ?? []).map((v) => literal(v, column))
      if (typeof lo !== 'number' || typeof hi !== 'number') throw reject('BETWEEN needs two numbers')
      return { op: 'between', column, lo, hi, negated: op === 'NOT BETWEEN' }
    }
    if (op === 'LIKE' || op === 'NOT LIKE') {
      const pattern = literal(right, column)
      if (typeof pattern !== 'string' || scope.type(column) !== 'string')
        throw reject('LIKE needs a text column and a quoted pattern')
      return { op: 'like', column, pattern, negated: op === 'NOT LIKE' }
    }
    const cmp = op === '<>' ? '!=' : op
    if (!['=', '!=', '<', '<=', '>', '>='].includes(cmp)) throw reject(`operator ${op} is not supported`)
    const value = literal(right, column)
    if (value === null) throw reject('compare with NULL using IS NULL / IS NOT NULL')
    return { op: 'cmp', cmp: cmp as '=', column, value }
  }
  const where = s.where ? predicate(s.where as Node) : null

  // ---- ORDER BY / LIMIT (post-processing of released values)
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  const orderBy = ((s.orderby as Node[] | null) ?? []).map((o) => {
    const e = o.expr as Node
    let output = -1
    if (e.type === 'number') output = Number(e.value) - 1
    else if (e.type === 'column_ref' || e.type === 'double_quote_string') {
      const name = String(e.type === 'column_ref' ? e.column : e.value)
      output = outputs.findIndex((x) => x.label === name)
      if (output < 0) {
        const resolved = scope.names().includes(name) ? name : tryResolve(scope, e)
        output = outputs.findIndex((x) => x.kind === 'group' && x.column === resolved)
      }
    } else output = cols.findIndex((c) => same(c.expr, e))
    if (output < 0 || output >= outputs.length) throw reject('ORDER BY must name a selected column, alias or position')
    return { output, desc: String(o.type).toUpperCase() === 'DESC' }
  })
  let limit: number | null = null
  let offset = 0
  const lim = s.limit as Node | null
  const limValues = (lim?.value as Node[] | undefined) ?? []
  if (limValues.length) {
    const nums = limValues.map((v) => (v.type === 'number' ? Number(v.value) : NaN))
    if (nums.some((n) => !Number.isSafeInteger(n) || n < 0))
      throw reject('LIMIT and OFFSET must be non-negative integers')
    if (lim!.seperator === ',') [offset, limit] = nums
    else [limit, offset = 0] = nums
  }

  const list = [...measurements.values()]
  let perM = 0
  let total = 0
  if (policy.mode === 'dp') {
    perM = Math.floor(policy.epsilonPerQueryMilli / list.length)
    if (perM < 1) throw new PolicyViolationError('query needs more measurements than the per-query ε can pay for')
    total = perM * list.length
  }
  return {
    groupBy,
    outputs,
    where,
    orderBy,
    limit,
    offset,
    measurements: list,
    epsilonPerMeasurementMilli: perM,
    epsilonMilli: total,
  }
}
