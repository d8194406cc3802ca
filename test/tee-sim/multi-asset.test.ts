// Jobs across assets of several owners (R67) and the enclave PSI mode (issue 9): the multi-asset planner,
// the strictest combination of policies, contribution-bounded joins, per-licence charges under one group
// receipt, refusals that charge nothing, and the side-effect-free query check.
import { TypedDataEncoder, Wallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import { groupReceiptTypes, jobReceiptDomain } from '../../contracts/index'
import { bytesToHex } from '../../tee-sim/src/bytes'
import { queryHashOf } from '../../tee-sim/src/canonical-json'
import { MULTI_JOB_REQUEST_TYPES, jobRequestDomain } from '../../tee-sim/src/eip712'
import { ingest } from '../../tee-sim/src/enclave/ingest'
import { checkJobQuery, runMultiJob, type MultiJobOutput } from '../../tee-sim/src/enclave/multi-jobs'
import { bindTables, joinTables, stackDatasets } from '../../tee-sim/src/enclave/query/combine'
import type { QueryResult } from '../../tee-sim/src/enclave/query/execute'
import { planMultiQuery } from '../../tee-sim/src/enclave/query/plan'
import type { Dataset } from '../../tee-sim/src/enclave/dataset'
import {
  BudgetExhaustedError,
  InvalidInputError,
  LicenceInvalidError,
  PolicyViolationError,
  QueryRejectedError,
  RequestSignatureError,
} from '../../tee-sim/src/errors'
import { x25519PublicKey } from '../../tee-sim/src/hpke'
import { multiJobIdOf, type JobPart, type MultiJobRequest } from '../../tee-sim/src/job-request'
import { openResult } from '../../tee-sim/src/key-release'
import { combinePolicies, normalizePolicy, type PrivacyPolicy } from '../../tee-sim/src/policy'
import { groupReceiptDigest, verifyGroupReceipt } from '../../tee-sim/src/receipt'
import { BUYER, BUYER_RESULT_SK, CONTRACTS, bootEnclave, encryptDataset, ingestParams } from './support'

const JOINABLE: PrivacyPolicy = { mode: 'dp', allowJoin: true, columns: { id: { identifier: true } } }

/** Customer ids `from..to-1` with a segment column; ids are the identifiers the owners share. */
function idsCsv(from: number, to: number, extra = ''): string {
  const lines = [`id,segment,spend${extra ? ',' + extra : ''}`]
  for (let i = from; i < to; i++) lines.push(`c${i},${i % 2 ? 'retail' : 'pro'},${i % 50}${extra ? ',x' : ''}`)
  return lines.join('\n') + '\n'
}

interface AssetSpec {
  csv: string
  policy?: PrivacyPolicy
  epsilonMilli?: number
  table: string
}

/** One enclave, one asset per spec (each its own owner), one licence per asset, all held by BUYER. */
async function twoOwners(specs: AssetSpec[]) {
  const env = await bootEnclave()
  const nowS = Math.floor(env.runtime.now() / 1000)
  const assets: Awaited<ReturnType<typeof encryptDataset>>[] = []
  for (const [i, spec] of specs.entries()) {
    const d = await encryptDataset(spec.csv, env.enclave.identity.clusterPublicKey, { seed: 0x40 + i })
    await ingest(env.enclave, await ingestParams(d, { policy: spec.policy }), [d.ciphertext])
    const tokenId = BigInt(i + 1)
    env.chain.assets.set(tokenId, {
      owner: `0x${String(i + 1).padStart(40, 'a')}`,
      contentHash: d.contentHash,
      revoked: false,
      frozen: false,
    })
    env.chain.licences.set(tokenId, {
      buyer: BUYER.address as `0x${string}`,
      tokenId,
      offerId: 1n,
      expiresAt: BigInt(nowS + 86400),
      jobsLeft: 10n,
      epsilonLeftMilli: BigInt(spec.epsilonMilli ?? 10_000),
      purposes: 1n,
    })
    assets.push(d)
  }
  let nonce = 0
  const parts = (): JobPart[] =>
    specs.map((s, i) => ({ licenceId: String(i + 1), contentHash: assets[i].contentHash, table: s.table }))
  const sign = async (query: string, over: Partial<MultiJobRequest> = {}, wallet = BUYER) => {
    const request: MultiJobRequest = {
      parts: parts(),
      queryHash: queryHashOf(query),
      resultPublicKey: bytesToHex(x25519PublicKey(BUYER_RESULT_SK)),
      nonce: `0x${(++nonce).toString(16).padStart(64, '0')}`,
      deadline: nowS + 600,
      ...over,
    }
    const signature = (await wallet.signTypedData(
      jobRequestDomain(31337, CONTRACTS.DataMarket),
      { JobPart: [...MULTI_JOB_REQUEST_TYPES.JobPart], MultiJobRequest: [...MULTI_JOB_REQUEST_TYPES.MultiJobRequest] },
      request,
    )) as `0x${string}`
    return { request, signature, query }
  }
  const fetched: number[] = []
  const run = async (query: string, over: Partial<MultiJobRequest> = {}, wallet = BUYER) =>
    runMultiJob(env.enclave, await sign(query, over, wallet), async (i) => {
      fetched.push(i)
      return [assets[i].ciphertext]
    })
  const open = async (out: MultiJobOutput): Promise<QueryResult> =>
    JSON.parse(new TextDecoder().decode(await openResult(out.sealedResult, BUYER_RESULT_SK, out.jobId)))
  const ledger = (licenceId: string) => env.enclave.state.ledger[licenceId]
  return { ...env, assets, sign, run, open, ledger, fetched }
}

const PSI = 'SELECT COUNT(*) AS shared FROM a JOIN b ON a.id = b.id'

describe('a job across two owners’ assets (R67)', () => {
  it('counts the intersection (enclave PSI mode) under the strictest ε, charging each licence once', async () => {
    // Owner A: c0..c2999 at ε 1 per query; owner B: c2000..c3999 at ε 0.5. 1000 ids are shared.
    const m = await twoOwners([
      { csv: idsCsv(0, 3000), policy: JOINABLE, table: 'a' },
      { csv: idsCsv(2000, 4000), policy: { ...JOINABLE, epsilonPerQueryMilli: 500 }, table: 'b' },
    ])
    const out = await m.run(PSI)
    const result = await m.open(out)
    expect(result.columns).toEqual(['shared'])
    expect(Math.abs((result.rows[0][0] as number) - 1000)).toBeLessThan(60)
    expect(result.privacy).toMatchObject({ mode: 'dp', epsilonSpentMilli: 500 })
    // Only the count leaves: no identifier of either owner is in the output.
    expect(JSON.stringify(out)).not.toMatch(/c2\d{3}/)

    const r = verifyGroupReceipt(out.receipt, {
      trustedSigners: [m.enclave.identity.signer],
      expectedMeasurement: m.enclave.identity.measurement,
      chainId: 31337,
      computeLedger: CONTRACTS.ComputeLedger,
    })
    expect(r.parts).toEqual([
      { licenceId: '1', contentHash: m.assets[0].contentHash, epsilonSpentMilli: 500 },
      { licenceId: '2', contentHash: m.assets[1].contentHash, epsilonSpentMilli: 500 },
    ])
    expect(r.jobId).toBe(
      multiJobIdOf((await m.sign(PSI, { nonce: `0x${'00'.repeat(31)}01` })).request, 31337, CONTRACTS.DataMarket),
    )
    // The digest the enclave signed is the one ComputeLedger.hashGroupReceipt computes (same EIP-712 as ethers).
    expect(bytesToHex(groupReceiptDigest(r, 31337, CONTRACTS.ComputeLedger))).toBe(
      TypedDataEncoder.hash(jobReceiptDomain(31337, CONTRACTS.ComputeLedger), groupReceiptTypes, r),
    )
    expect([m.ledger('1'), m.ledger('2')].map((e) => [e.spentMilli, e.jobs])).toEqual([
      [500, 1],
      [500, 1],
    ])
  })

  it('joins on the identifier and releases DP aggregates of both owners’ columns, grouped by a public domain', async () => {
    const m = await twoOwners([
      {
        csv: idsCsv(0, 2000),
        policy: { ...JOINABLE, columns: { ...JOINABLE.columns, segment: { domain: ['pro', 'retail'] } } },
        table: 'crm',
      },
      {
        csv: idsCsv(1000, 3000),
        policy: { ...JOINABLE, columns: { id: { identifier: true }, spend: { bounds: [0, 50] } } },
        table: 'shop',
      },
    ])
    const result = await m.open(
      await m.run(
        'SELECT crm.segment, COUNT(*) AS n, SUM(shop.spend) AS spend FROM crm JOIN shop ON shop.id = crm.id GROUP BY crm.segment',
      ),
    )
    expect(result.columns).toEqual(['segment', 'n', 'spend'])
    expect(result.rows.map((row) => row[0])).toEqual(['pro', 'retail'])
    for (const row of result.rows) {
      expect(Math.abs((row[1] as number) - 500)).toBeLessThan(60)
      // ids c1000..c1999 of each parity: spend i % 50 sums to 500/50 × (0+2+…+48 or 1+3+…+49) ≈ 12 250
      expect(Math.abs((row[2] as number) - 12_250)).toBeLessThan(3_000)
    }
    expect(result.privacy.clamping).toEqual({ 'shop.spend': [0, 50] })
  })

  it('with a DP and an aggregates-only owner, also withholds counts below the aggregates-only owner’s k', async () => {
    // 300 shared ids: released when B's minimum group size is 100, withheld when it is 1000.
    for (const [k, released] of [
      [100, true],
      [1000, false],
    ] as const) {
      const m = await twoOwners([
        { csv: idsCsv(0, 1000), policy: JOINABLE, table: 'a' },
        { csv: idsCsv(700, 1500), policy: { ...JOINABLE, mode: 'aggregates-only', minGroupSize: k }, table: 'b' },
      ])
      const out = await m.run(PSI)
      const result = await m.open(out)
      expect(result.privacy.mode).toBe('dp')
      expect(result.rows.length).toBe(released ? 1 : 0)
      if (released) expect(Math.abs((result.rows[0][0] as number) - 300)).toBeLessThan(60)
      // The aggregates-only licence pays no ε; the DP one pays the query's.
      expect(out.receipt.receipt.parts.map((p) => p.epsilonSpentMilli)).toEqual([1000, 0])
    }
  })

  it('stacks assets bound to one table name (UNION ALL) when both owners allow it', async () => {
    const stack: PrivacyPolicy = { mode: 'dp', allowUnion: true }
    const m = await twoOwners([
      { csv: idsCsv(0, 1500), policy: stack, table: 't' },
      { csv: idsCsv(5000, 6000), policy: stack, table: 't' },
    ])
    const result = await m.open(await m.run('SELECT segment, COUNT(*) AS n FROM t GROUP BY segment'))
    const n = Object.fromEntries(result.rows.map((row) => [row[0], row[1] as number]))
    expect(Math.abs(n.pro - 1250)).toBeLessThan(60)
    expect(Math.abs(n.retail - 1250)).toBeLessThan(60)
  })

  it('refuses a join one owner’s policy does not allow, before anything is fetched or charged', async () => {
    const m = await twoOwners([
      { csv: idsCsv(0, 100), policy: JOINABLE, table: 'a' },
      { csv: idsCsv(50, 150), policy: { mode: 'dp', columns: { id: { identifier: true } } }, table: 'b' },
    ])
    await expect(m.run(PSI)).rejects.toThrow(PolicyViolationError)
    await expect(m.run(PSI)).rejects.toThrow(/table b does not allow joins/)
    expect(m.fetched).toEqual([])
    expect(m.ledger('1')).toBeUndefined()
    expect(m.ledger('2')).toBeUndefined()
  })

  it('refuses stacking without both owners’ consent, and stacking different schemas', async () => {
    const m = await twoOwners([
      { csv: idsCsv(0, 100), policy: { mode: 'dp', allowUnion: true }, table: 't' },
      { csv: idsCsv(100, 200), policy: { mode: 'dp' }, table: 't' },
    ])
    await expect(m.run('SELECT COUNT(*) FROM t')).rejects.toThrow(PolicyViolationError)
    const n = await twoOwners([
      { csv: idsCsv(0, 100), policy: { mode: 'dp', allowUnion: true }, table: 't' },
      { csv: idsCsv(100, 200, 'flag'), policy: { mode: 'dp', allowUnion: true }, table: 't' },
    ])
    await expect(n.run('SELECT COUNT(*) FROM t')).rejects.toThrow(/different columns/)
  })

  it('refuses when one licence is missing, another holder’s, or out of ε — and charges no part', async () => {
    const m = await twoOwners([
      { csv: idsCsv(0, 100), policy: JOINABLE, table: 'a' },
      { csv: idsCsv(50, 150), policy: JOINABLE, epsilonMilli: 100, table: 'b' },
    ])
    const missing = (await m.sign(PSI)).request.parts.map((p, i) => (i === 1 ? { ...p, licenceId: '9' } : p))
    await expect(m.run(PSI, { parts: missing })).rejects.toThrow(LicenceInvalidError)
    await expect(m.run(PSI, {}, new Wallet(`0x${'c3'.repeat(32)}`))).rejects.toThrow(RequestSignatureError)
    // Licence 2 has ε 0.1 left; the query costs 1: licence 1's reservation is released again.
    await expect(m.run(PSI)).rejects.toThrow(BudgetExhaustedError)
    expect(m.fetched).toEqual([])
    expect(m.enclave.budget.remaining('1', { epsilonLeftMilli: 10_000, jobsLeft: 10 })).toEqual({
      epsilonMilli: 10_000,
      jobs: 10,
    })
  })

  it('rejects malformed multi-asset requests', async () => {
    const m = await twoOwners([
      { csv: idsCsv(0, 10), policy: JOINABLE, table: 'a' },
      { csv: idsCsv(0, 10), policy: JOINABLE, table: 'b' },
    ])
    const parts = (await m.sign(PSI)).request.parts
    for (const bad of [
      [parts[0]],
      [parts[0], { ...parts[1], licenceId: '1' }],
      [parts[0], { ...parts[1], contentHash: parts[0].contentHash }],
      [parts[0], { ...parts[1], table: 'B' }],
      [parts[0], { ...parts[1], table: 'select' }],
    ]) {
      await expect(m.run(PSI, { parts: bad })).rejects.toThrow(InvalidInputError)
    }
  })
})

describe('the multi-asset planner', () => {
  const pol = (p: PrivacyPolicy = JOINABLE) => normalizePolicy(p)
  const schema = [
    { name: 'id', type: 'string' as const },
    { name: 'segment', type: 'string' as const },
    { name: 'spend', type: 'integer' as const },
  ]
  const tables = (b: PrivacyPolicy = JOINABLE) =>
    bindTables([
      { table: 'a', schema, policy: pol(), defaultBounds: {} },
      { table: 'b', schema, policy: pol(b), defaultBounds: {} },
    ])

  it.each([
    ['SELECT COUNT(*) FROM a JOIN c ON a.id = c.id', QueryRejectedError, /unknown table c/],
    ['SELECT COUNT(*) FROM a, b', QueryRejectedError, /JOIN … ON/],
    ['SELECT COUNT(*) FROM a LEFT JOIN b ON a.id = b.id', QueryRejectedError, /not supported/],
    ['SELECT COUNT(*) FROM a JOIN b ON a.id < b.id', QueryRejectedError, /one equality/],
    ['SELECT COUNT(*) FROM a JOIN b ON a.id = a.segment', QueryRejectedError, /earlier table/],
    ['SELECT COUNT(*) FROM a JOIN b ON a.id = b.spend', QueryRejectedError, /cannot join/],
    ['SELECT COUNT(*) FROM a', QueryRejectedError, /does not use: b/],
    ['SELECT segment, COUNT(*) FROM a JOIN b ON a.id = b.id GROUP BY segment', QueryRejectedError, /qualify/],
    ['SELECT a.id, COUNT(*) FROM a JOIN b ON a.id = b.id GROUP BY a.id', PolicyViolationError, /identifier/],
    ["SELECT COUNT(*) FROM a JOIN b ON a.id = b.id WHERE b.id = 'c1'", PolicyViolationError, /identifier/],
    ['SELECT COUNT(*) FROM a JOIN a ON a.id = a.id', QueryRejectedError, /twice/],
  ])('rejects %s', (sql, cls, msg) => {
    const t = tables()
    expect(() => planMultiQuery(sql, t.tables, t.policy)).toThrow(cls)
    expect(() => planMultiQuery(sql, t.tables, t.policy)).toThrow(msg)
  })

  it('needs every joined owner’s allowJoin (default off)', () => {
    const t = tables({ mode: 'dp' })
    expect(() => planMultiQuery(PSI, t.tables, t.policy)).toThrow(/table b does not allow joins/)
    expect(normalizePolicy({ mode: 'dp' })).toMatchObject({ allowJoin: false, allowUnion: false })
    expect(() => normalizePolicy({ mode: 'dp', allowJoin: 'yes' })).toThrow(/allowJoin/)
  })

  it('plans aliases and unqualified columns that are unambiguous', () => {
    const t = bindTables([
      { table: 'a', schema, policy: pol(), defaultBounds: {} },
      {
        table: 'b',
        schema: [
          { name: 'id', type: 'string' },
          { name: 'score', type: 'number' },
        ],
        policy: pol(),
        defaultBounds: {},
      },
    ])
    const plan = planMultiQuery('SELECT COUNT(score) FROM a AS x JOIN b y ON y.id = x.id', t.tables, t.policy)
    expect(plan.tables).toEqual(['a', 'b'])
    expect(plan.joins).toEqual([{ table: 'b', left: 'a.id', right: 'b.id' }])
    expect(plan.measurements).toContainEqual({ kind: 'count', column: 'b.score' })
  })

  it('combines policies into the strictest: DP if any, smallest ε and δ, largest k, fewest groups', () => {
    const c = combinePolicies(
      [
        normalizePolicy({ mode: 'dp', epsilonPerQueryMilli: 2000, deltaPerQuery: 1e-7, maxGroups: 50 }),
        normalizePolicy({ mode: 'dp', epsilonPerQueryMilli: 300, deltaPerQuery: 1e-5 }),
        normalizePolicy({ mode: 'aggregates-only', minGroupSize: 25, allowMinMax: true }),
      ],
      {},
    )
    expect(c).toMatchObject({
      mode: 'dp',
      epsilonPerQueryMilli: 300,
      deltaPerQuery: 1e-7,
      minGroupSize: 25,
      maxGroups: 50,
      allowMinMax: false,
      releasedMinCount: 25,
    })
  })
})

describe('contribution-bounded joins', () => {
  const ds = (ids: (string | null)[]): Dataset => {
    const dict = [...new Set(ids.filter((x): x is string => x !== null))]
    return {
      schema: [{ name: 'id', type: 'string' }],
      rowCount: ids.length,
      columns: [
        { name: 'id', type: 'string', codes: Int32Array.from(ids, (x) => (x === null ? -1 : dict.indexOf(x))), dict },
      ],
    }
  }
  const plan = {
    tables: ['a', 'b'],
    joins: [{ table: 'b', left: 'a.id', right: 'b.id' }],
    groupBy: [],
    measurements: [],
    where: null,
  } as never

  it('lets each row of either side match at most once, and never matches NULL', () => {
    const joined = joinTables(
      plan,
      new Map([
        ['a', ds(['x', 'x', 'y', null, 'z'])],
        ['b', ds(['x', 'y', 'y', 'y', null, 'w'])],
      ]),
    )
    // x and y match once each despite duplicates on both sides; NULL, z and w do not match.
    expect(joined.rowCount).toBe(2)
    const c = joined.columns.find((col) => col.name === 'b.id')!
    expect('codes' in c && [...c.codes].map((k) => c.dict[k])).toEqual(['x', 'y'])
  })

  it('bounds numeric keys the same way (NaN is NULL)', () => {
    const num = (xs: number[]): Dataset => ({
      schema: [{ name: 'id', type: 'integer' }],
      rowCount: xs.length,
      columns: [{ name: 'id', type: 'integer', values: Float64Array.from(xs) }],
    })
    const joined = joinTables(
      plan,
      new Map([
        ['a', num([1, 1, 2, NaN, 3])],
        ['b', num([1, 2, 2, NaN, 4])],
      ]),
    )
    const c = joined.columns.find((col) => col.name === 'a.id')!
    expect('values' in c && [...c.values]).toEqual([1, 2])
  })

  it('stacks dictionaries by value', () => {
    const s = stackDatasets([ds(['p', 'q']), ds(['q', null, 'r'])])
    const c = s.columns[0]
    expect('codes' in c && [...c.codes].map((k) => (k < 0 ? null : c.dict[k]))).toEqual(['p', 'q', 'q', null, 'r'])
  })
})

describe('POST /jobs/check logic (checkJobQuery)', () => {
  it('answers the ε each part would pay, or the refusal, without reserving or fetching anything', async () => {
    const m = await twoOwners([
      { csv: idsCsv(0, 10), policy: JOINABLE, table: 'a' },
      { csv: idsCsv(10, 20), policy: { ...JOINABLE, mode: 'aggregates-only' }, table: 'b' },
    ])
    expect(checkJobQuery(m.enclave, await m.sign(PSI))).toEqual({
      epsilonSpentMilli: 1000,
      parts: [
        { licenceId: '1', epsilonSpentMilli: 1000 },
        { licenceId: '2', epsilonSpentMilli: 0 },
      ],
    })
    expect(() => checkJobQuery(m.enclave, { request: {}, query: 1 })).toThrow(InvalidInputError)
    const onlyB = await m.sign('SELECT COUNT(*) FROM b')
    expect(() => checkJobQuery(m.enclave, onlyB)).toThrow(/does not use: a/)
    const withId = await m.sign('SELECT a.id, COUNT(*) FROM a JOIN b ON a.id = b.id GROUP BY a.id')
    expect(() => checkJobQuery(m.enclave, withId)).toThrow(PolicyViolationError)
    expect(() => checkJobQuery(m.enclave, { ...withId, query: PSI })).toThrow(/queryHash/)
    expect(m.enclave.state.ledger).toEqual({})
    expect(m.fetched).toEqual([])
  })

  it('checks a single-asset request against its asset’s policy', async () => {
    const m = await twoOwners([
      { csv: idsCsv(0, 10), policy: JOINABLE, table: 'a' },
      { csv: idsCsv(10, 20), policy: JOINABLE, table: 'b' },
    ])
    const single = (query: string) => ({
      request: {
        licenceId: '1',
        contentHash: m.assets[0].contentHash,
        queryHash: queryHashOf(query),
        resultPublicKey: `0x${'11'.repeat(32)}`,
        nonce: `0x${'22'.repeat(32)}`,
        deadline: 2_000_000_000,
      },
      query,
    })
    expect(checkJobQuery(m.enclave, single('SELECT COUNT(*) FROM data'))).toEqual({ epsilonSpentMilli: 1000 })
    expect(() => checkJobQuery(m.enclave, single('SELECT id, COUNT(*) FROM data GROUP BY id'))).toThrow(
      PolicyViolationError,
    )
    expect(() => checkJobQuery(m.enclave, single('SELECT COUNT(*) FROM data JOIN x ON data.id = x.id'))).toThrow(
      PolicyViolationError,
    )
    const unknown = single('SELECT COUNT(*) FROM data')
    unknown.request.contentHash = `0x${'ee'.repeat(32)}`
    expect(() => checkJobQuery(m.enclave, unknown)).toThrow(/ingest it first/)
  })
})
