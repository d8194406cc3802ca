// Real attacks against the query engine, run end to end through runJob, and shown to fail under the
// default DP policy. Where an attack is shown to work against a weaker configuration, that is to
// prove the attack is real, not a straw man.
import { describe, expect, it } from 'vitest'
import { ingest } from '../../tee-sim/src/enclave/ingest'
import { runJob } from '../../tee-sim/src/enclave/jobs'
import type { QueryResult } from '../../tee-sim/src/enclave/query/execute'
import { BudgetExhaustedError, PolicyViolationError, QueryRejectedError } from '../../tee-sim/src/errors'
import { openResult } from '../../tee-sim/src/key-release'
import {
  BUYER,
  BUYER_RESULT_SK,
  CONTRACTS,
  bootEnclave,
  encryptDataset,
  ingestParams,
  marketplace,
  salesCsv,
} from './support'

/** One enclave, several assets, a fresh licence per attack attempt (the attacker can buy many). */
async function attackLab(datasets: string[], policy: unknown) {
  const env = await bootEnclave({ seed: 'attack-lab' })
  const assets: { contentHash: `0x${string}`; ciphertext: Uint8Array }[] = []
  for (const [i, csv] of datasets.entries()) {
    const d = await encryptDataset(csv, env.enclave.identity.clusterPublicKey, { seed: 0x40 + i })
    await ingest(env.enclave, await ingestParams(d, { policy }), [d.ciphertext])
    env.chain.assets.set(BigInt(i + 1), {
      owner: '0x00000000000000000000000000000000000000a1',
      contentHash: d.contentHash,
      revoked: false,
      frozen: false,
    })
    assets.push(d)
  }
  const m = await marketplace('a\n1\n', {}) // only for its signing helper
  let nextLicence = 100n
  const newLicence = (asset: number, epsilonMilli: number) => {
    const id = nextLicence++
    env.chain.licences.set(id, {
      buyer: BUYER.address as `0x${string}`,
      tokenId: BigInt(asset + 1),
      offerId: 1n,
      expiresAt: BigInt(Math.floor(env.runtime.now() / 1000) + 86400),
      jobsLeft: 1000n,
      epsilonLeftMilli: BigInt(epsilonMilli),
      purposes: 1n,
    })
    return id
  }
  const query = async (asset: number, licence: bigint, sql: string): Promise<QueryResult> => {
    const job = await m.sign(sql, {
      licenceId: licence.toString(),
      contentHash: assets[asset].contentHash,
      deadline: Math.floor(env.runtime.now() / 1000) + 600,
    })
    const out = await runJob(env.enclave, job, async () => [assets[asset].ciphertext])
    return JSON.parse(new TextDecoder().decode(await openResult(out.sealedResult, BUYER_RESULT_SK, out.jobId)))
  }
  return { env, newLicence, query }
}

/** Two neighbouring datasets: identical except the target's secret flag. */
function neighbours(n = 200) {
  const make = (targetFlag: number) => salesCsv(n, (i) => (i === 7 ? String(targetFlag) : String(i % 2)))
  return [make(0), make(1)]
}

const DIFF_A = 'SELECT COUNT(*) FROM data WHERE flag = 1'
const DIFF_B = "SELECT COUNT(*) FROM data WHERE flag = 1 AND email != 'user7@example.com'"
const count = (r: QueryResult) => r.rows[0][0] as number

describe('differencing attack (two queries that differ by one row)', () => {
  it('works against exact aggregates (k = 2), so the attack is real', async () => {
    const lab = await attackLab(neighbours(), { mode: 'aggregates-only', minGroupSize: 2 })
    for (const secret of [0, 1]) {
      const lic = lab.newLicence(secret, 0)
      expect(count(await lab.query(secret, lic, DIFF_A)) - count(await lab.query(secret, lic, DIFF_B))).toBe(secret)
    }
  })

  it('under DP the attacker guesses the secret no better than e^ε/(1+e^ε) allows', async () => {
    // ε = 0.2 per query, 0.4 for the pair: any test's success rate is bounded by e^0.4/(1+e^0.4) ≈ 0.599.
    const lab = await attackLab(neighbours(), { mode: 'dp', epsilonPerQueryMilli: 200 })
    const trials = 120
    let right = 0
    for (let t = 0; t < trials; t++) {
      const secret = t % 2
      const lic = lab.newLicence(secret, 400)
      const guess =
        count(await lab.query(secret, lic, DIFF_A)) - count(await lab.query(secret, lic, DIFF_B)) >= 1 ? 1 : 0
      if (guess === secret) right++
      // the licence is spent: a third query is refused before it runs
      await expect(lab.query(secret, lic, DIFF_A)).rejects.toThrow(BudgetExhaustedError)
    }
    const bound = Math.exp(0.4) / (1 + Math.exp(0.4))
    expect(right / trials).toBeLessThan(bound + 3 * Math.sqrt((bound * (1 - bound)) / trials))
  }, 60_000)

  it('marking the column as an identifier refuses the second query outright', async () => {
    const lab = await attackLab(neighbours(), { mode: 'dp', columns: { email: { identifier: true } } })
    await expect(lab.query(0, lab.newLicence(0, 5000), DIFF_B)).rejects.toThrow(PolicyViolationError)
  })
})

describe('averaging attack (the same query many times)', () => {
  it('is stopped by the budget: answers stop when ε runs out, and the total ε released never exceeds it', async () => {
    const m = await marketplace(salesCsv(300), { epsilonMilli: 5000 })
    const answers: number[] = []
    for (let i = 0; i < 20; i++) {
      try {
        answers.push(count(await m.query('SELECT COUNT(*) FROM data')))
      } catch (e) {
        expect(e).toBeInstanceOf(BudgetExhaustedError)
        break
      }
    }
    expect(answers.length).toBe(5)
    expect(m.enclave.state.ledger['1'].spentMilli).toBe(5000)
    // the answers are noisy: not all equal to the truth
    expect(answers.some((a) => a !== 300)).toBe(true)
  })
})

describe('tiny groups', () => {
  it('a one-row group is never released under DP (τ-threshold) nor under k', async () => {
    const csv = salesCsv(400) + 'west,50,3,solo@example.com\n'
    const lab = await attackLab([csv], { mode: 'dp' })
    for (let t = 0; t < 30; t++) {
      const r = await lab.query(0, lab.newLicence(0, 1000), 'SELECT region, COUNT(*) FROM data GROUP BY region')
      expect(r.rows.map((x) => x[0])).not.toContain('west')
      expect(r.rows.map((x) => x[0])).toContain('north')
    }
    const k = await attackLab([csv], { mode: 'aggregates-only', minGroupSize: 5 })
    const r = await k.query(0, k.newLicence(0, 0), 'SELECT region, COUNT(*) FROM data GROUP BY region')
    expect(r.rows.map((x) => x[0])).toEqual(['east', 'north', 'south'])
  })
})

describe('reading raw values through MIN/MAX/GROUP BY on a unique column', () => {
  it('MIN/MAX are refused under DP', async () => {
    const m = await marketplace(salesCsv(200))
    await expect(m.run("SELECT MAX(price) FROM data WHERE email = 'user7@example.com'")).rejects.toThrow(
      PolicyViolationError,
    )
    await expect(m.run('SELECT MIN(price) FROM data')).rejects.toThrow(PolicyViolationError)
  })

  it('GROUP BY a unique column releases no group under DP', async () => {
    const m = await marketplace(salesCsv(300))
    const r = await m.query('SELECT email, COUNT(*), AVG(price) FROM data GROUP BY email')
    expect(r.rows).toEqual([])
    const r2 = await m.query('SELECT price, COUNT(*) FROM data GROUP BY price')
    expect(r2.rows).toEqual([]) // 100 distinct prices × 3 rows each: all under τ
  })

  it('under aggregates-only, MAX over a one-row filter and GROUP BY a unique column are suppressed', async () => {
    const m = await marketplace(salesCsv(300), {
      policy: { mode: 'aggregates-only', minGroupSize: 5, allowMinMax: true },
    })
    expect((await m.query("SELECT MAX(price) FROM data WHERE email = 'user7@example.com'")).rows).toEqual([])
    expect((await m.query('SELECT email, COUNT(*) FROM data GROUP BY email')).rows).toEqual([])
  })
})

describe('SQL injection strings', () => {
  it.each([
    'SELECT * FROM data --',
    'SELECT COUNT(*) FROM data; SELECT email FROM data',
    "SELECT email FROM data WHERE '1'='1'",
    'SELECT COUNT(*) FROM data UNION SELECT email FROM data',
    "SELECT COUNT(*) FROM data WHERE region = '' OR 1=1 --'",
    'SELECT COUNT(*) FROM data WHERE region IN (SELECT email FROM data)',
    'SELECT COUNT(*) FROM data/**/WHERE/**/1=1; DROP TABLE data',
  ])('%s is refused', async (sql) => {
    const m = await marketplace(salesCsv(50))
    await expect(m.run(sql)).rejects.toThrow(QueryRejectedError)
    expect(m.fetchedCount()).toBe(0)
  })

  it('an injection string inside a literal is only data', async () => {
    const m = await marketplace(salesCsv(300), { policy: { mode: 'aggregates-only', minGroupSize: 2 } })
    const r = await m.query("SELECT COUNT(*) FROM data WHERE region = ''' OR 1=1 --'")
    expect(r.rows).toEqual([]) // zero matching rows, below k: nothing released, and certainly not all rows
  })
})
