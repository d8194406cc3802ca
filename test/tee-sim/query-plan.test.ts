import { describe, expect, it } from 'vitest'
import { PolicyViolationError, QueryRejectedError } from '../../tee-sim/src/errors'
import { normalizePolicy } from '../../tee-sim/src/policy'
import { planQuery } from '../../tee-sim/src/enclave/query/plan'
import type { ColumnSchema } from '../../tee-sim/src/enclave/dataset'

const schema: ColumnSchema[] = [
  { name: 'region', type: 'string' },
  { name: 'price', type: 'number' },
  { name: 'qty', type: 'integer' },
  { name: 'email', type: 'string' },
  { name: 'ok', type: 'boolean' },
]
const dp = normalizePolicy({ mode: 'dp', epsilonPerQueryMilli: 1000, columns: { email: { identifier: true } } })
const kanon = normalizePolicy({ mode: 'aggregates-only', minGroupSize: 5, allowMinMax: true })

describe('planQuery accepts the subset', () => {
  it('plans measurements and splits ε evenly (sequential composition)', () => {
    const p = planQuery(
      "SELECT region, COUNT(*) AS n, AVG(price), SUM(qty) FROM data WHERE price > 3 AND region IN ('north', 'south') GROUP BY region ORDER BY n DESC LIMIT 5",
      schema,
      dp,
    )
    expect(p.groupBy).toEqual(['region'])
    expect(p.outputs.map((o) => o.label)).toEqual(['region', 'n', 'avg(price)', 'sum(qty)'])
    expect(p.measurements.map((m) => `${m.kind}:${m.column}`).sort()).toEqual([
      'count:null',
      'count:price',
      'sum:price',
      'sum:qty',
    ])
    expect(p.epsilonPerMeasurementMilli).toBe(250)
    expect(p.epsilonMilli).toBe(1000)
    expect(p.orderBy).toEqual([{ output: 1, desc: true }])
    expect(p.limit).toBe(5)
  })

  it('supports NOT, OR, BETWEEN, LIKE, IS NULL, <>, negative numbers, booleans and quoted identifiers', () => {
    const p = planQuery(
      "SELECT COUNT(*) FROM data WHERE NOT (region = 'east') OR price BETWEEN 1 AND 2 OR region LIKE 'n%' OR qty IS NULL OR qty <> -1 OR ok = true OR `price` >= 2.5",
      schema,
      dp,
    )
    expect(p.where?.op).toBe('or')
  })

  it('allows MIN/MAX only in an aggregates-only policy that permits them', () => {
    expect(planQuery('SELECT MIN(price), MAX(price) FROM data', schema, kanon).epsilonMilli).toBe(0)
    expect(() =>
      planQuery('SELECT MIN(price) FROM data', schema, normalizePolicy({ mode: 'aggregates-only' })),
    ).toThrow(PolicyViolationError)
  })

  it('takes column names in any script, bare or quoted, as SQLite does', () => {
    const cn: ColumnSchema[] = [
      { name: '城市', type: 'string' },
      { name: '人数', type: 'integer' },
    ]
    const policy = normalizePolicy({ mode: 'dp', columns: { 城市: { domain: ['北京', '上海'] } } })
    const quoted = planQuery(
      'SELECT "城市", SUM(`人数`) FROM data WHERE "城市" <> \'上海\' GROUP BY "城市"',
      cn,
      policy,
    )
    // Bare names (the parser itself reads only ASCII ones); string literals stay literals.
    const bare = planQuery("SELECT 城市, SUM(人数) FROM data WHERE 城市 <> '上海' GROUP BY 城市 -- 按城市", cn, policy)
    for (const p of [quoted, bare]) {
      expect(p.groupBy).toEqual(['城市'])
      expect(p.outputs.map((o) => o.label)).toEqual(['城市', 'sum(人数)'])
      expect(p.where).toEqual({ op: 'cmp', cmp: '!=', column: '城市', value: '上海' })
    }
    // A literal that looks like a name is not turned into one.
    expect(planQuery("SELECT COUNT(*) FROM data WHERE 城市 = '人数'", cn, policy).where).toMatchObject({
      column: '城市',
      value: '人数',
    })
    expect(() => planQuery('SELECT 城市 FROM data GROUP BY 城市', cn, policy)).toThrow(/aggregate/)
  })
})

describe('planQuery rejects, precisely', () => {
  it.each([
    ['SELECT * FROM data', QueryRejectedError, /SELECT \*/],
    ['SELECT region FROM data', QueryRejectedError, /GROUP BY or inside an aggregate/],
    ['SELECT region, COUNT(*) FROM data', QueryRejectedError, /GROUP BY/],
    ['SELECT price, COUNT(*) FROM data GROUP BY region', QueryRejectedError, /price/],
    ['SELECT COUNT(*) FROM data d JOIN other o ON d.region = o.region', PolicyViolationError, /joins/],
    ['SELECT COUNT(*) FROM data, other', PolicyViolationError, /joins/],
    ['SELECT COUNT(*) FROM data WHERE region IN (SELECT region FROM data)', QueryRejectedError, /sub-queries/],
    ['SELECT COUNT(*) FROM (SELECT * FROM data)', QueryRejectedError, /sub-queries|FROM/],
    ['SELECT COUNT(*) FROM data WHERE EXISTS (SELECT 1 FROM data)', QueryRejectedError, /sub-queries|WHERE/],
    ['SELECT COUNT(*) FROM data UNION SELECT COUNT(*) FROM data', QueryRejectedError, /UNION/],
    ['WITH x AS (SELECT * FROM data) SELECT COUNT(*) FROM x', QueryRejectedError, /WITH/],
    ['SELECT COUNT(*) FROM data; DROP TABLE data', QueryRejectedError, /one statement/],
    ['DELETE FROM data', QueryRejectedError, /only SELECT/],
    ['SELECT DISTINCT region FROM data', QueryRejectedError, /DISTINCT/],
    ['SELECT COUNT(DISTINCT region) FROM data', QueryRejectedError, /DISTINCT/],
    ['SELECT region, COUNT(*) FROM data GROUP BY region HAVING COUNT(*) > 1', QueryRejectedError, /HAVING/],
    ['SELECT MIN(price) FROM data', PolicyViolationError, /not differentially private/],
    ['SELECT MAX(price) FROM data', PolicyViolationError, /not differentially private/],
    ['SELECT COUNT(email) FROM data', PolicyViolationError, /identifier/],
    ['SELECT email, COUNT(*) FROM data GROUP BY email', PolicyViolationError, /identifier/],
    ["SELECT COUNT(*) FROM data WHERE email = 'a@b.c'", PolicyViolationError, /identifier/],
    ['SELECT SUM(region) FROM data', QueryRejectedError, /numeric/],
    ['SELECT price * 2 FROM data', QueryRejectedError, /aggregates/],
    ['SELECT COUNT(*) FROM users', QueryRejectedError, /table "data"/],
    ['SELECT COUNT(*) FROM data WHERE nope = 1', QueryRejectedError, /unknown column/],
    ["SELECT COUNT(*) FROM data WHERE price = 'x'", QueryRejectedError, /numeric/],
    ['SELECT COUNT(*) FROM data WHERE region = 3', QueryRejectedError, /text/],
    ['SELECT COUNT(*) FROM data WHERE price = qty', QueryRejectedError, /literal/],
    ['SELECT COUNT(*) FROM data WHERE LENGTH(region) > 3', QueryRejectedError, /column name|WHERE/],
    ['SELECT COUNT(*) FROM data WHERE region = NULL', QueryRejectedError, /IS NULL/],
    ['SELECT 1', QueryRejectedError, /FROM/],
    ['SELECT COUNT(*) FROM data ORDER BY price', QueryRejectedError, /ORDER BY/],
    ['', QueryRejectedError, /empty/],
    ['SELEC COUNT(*) FROM data', QueryRejectedError, /parse/],
    [
      'SELECT region, qty, price, ok, COUNT(*) FROM data GROUP BY region, qty, price, ok',
      QueryRejectedError,
      /at most 3/,
    ],
  ])('%s', (sql, cls, msg) => {
    expect(() => planQuery(sql, schema, dp)).toThrow(cls)
    expect(() => planQuery(sql, schema, dp)).toThrow(msg)
  })

  it('treats SQL injection strings as data or rejects them; nothing executes', () => {
    for (const s of ["' OR 1=1 --", "north'; DROP TABLE data; --", "x' UNION SELECT email FROM data --"]) {
      const p = planQuery(`SELECT COUNT(*) FROM data WHERE region = '${s.replace(/'/g, "''")}'`, schema, dp)
      expect(p.where).toEqual({ op: 'cmp', cmp: '=', column: 'region', value: s })
      expect(() => planQuery(`SELECT COUNT(*) FROM data WHERE region = '${s}'`, schema, dp)).toThrow(QueryRejectedError)
    }
    expect(() => planQuery('SELECT COUNT(*) FROM data -- comment\n; SELECT * FROM data', schema, dp)).toThrow(
      QueryRejectedError,
    )
    expect(() => planQuery(`SELECT COUNT(*) FROM data WHERE region = '${'x'.repeat(5000)}'`, schema, dp)).toThrow(
      /longer/,
    )
  })

  it('refuses a query with more measurements than ε can pay for', () => {
    const tiny = normalizePolicy({ mode: 'dp', epsilonPerQueryMilli: 2 })
    expect(() => planQuery('SELECT COUNT(*), SUM(price), SUM(qty) FROM data', schema, tiny)).toThrow(
      /more measurements/,
    )
  })
})
