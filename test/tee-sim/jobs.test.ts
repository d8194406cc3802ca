import { TypedDataEncoder, Wallet, verifyTypedData } from 'ethers'
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { jobReceiptDomain, jobReceiptTypes } from '../../contracts/index'
import { hexToBytes } from '../../tee-sim/src/bytes'
import {
  AssetUnavailableError,
  BudgetExhaustedError,
  InvalidInputError,
  LicenceInvalidError,
  MeasurementNotApprovedError,
  PolicyViolationError,
  QueryRejectedError,
  RequestSignatureError,
  UnknownAssetError,
} from '../../tee-sim/src/errors'
import { receiptDigest, verifyReceipt } from '../../tee-sim/src/receipt'
import { CONTRACTS, marketplace, salesCsv } from './support'

const Q = 'SELECT region, COUNT(*) AS n, AVG(price) AS avg_price FROM data GROUP BY region ORDER BY region'

describe('a compute job', () => {
  it('returns a result only the buyer can open and a receipt ComputeLedger would accept', async () => {
    const m = await marketplace(salesCsv(3000))
    const out = await m.run(Q)
    const result = await m.open(out)
    expect(result.columns).toEqual(['region', 'n', 'avg_price'])
    expect(result.rows.map((r) => r[0])).toEqual(['east', 'north', 'south'])
    const n = Object.fromEntries(result.rows.map((r) => [r[0], r[1] as number]))
    expect(Math.abs(n.north - 1800)).toBeLessThan(40)
    expect(Math.abs(n.east - 300)).toBeLessThan(40)
    expect(result.privacy).toMatchObject({ mode: 'dp', epsilonSpentMilli: 999 })

    const r = verifyReceipt(out.receipt, {
      trustedSigners: [m.enclave.identity.signer],
      expectedMeasurement: m.enclave.identity.measurement,
      chainId: 31337,
      computeLedger: CONTRACTS.ComputeLedger,
    })
    expect(r).toMatchObject({ jobId: out.jobId, licenceId: '1', contentHash: m.d.contentHash, epsilonSpentMilli: 999 })
    expect(r.resultHash).toBe(`0x${createHash('sha256').update(hexToBytes(out.sealedResult)).digest('hex')}`)
    // The same digest and signer as ethers computes with the contracts' own EIP-712 definitions.
    const types = { JobReceipt: jobReceiptTypes.JobReceipt.map((f) => ({ ...f })) }
    const domain = jobReceiptDomain(31337, CONTRACTS.ComputeLedger)
    expect(TypedDataEncoder.hash(domain, types, r)).toBe(
      `0x${Buffer.from(receiptDigest(r, 31337, CONTRACTS.ComputeLedger)).toString('hex')}`,
    )
    expect(verifyTypedData(domain, types, r, out.receipt.signature)).toBe(m.enclave.identity.signer)
    // plaintext rows never leave: no e-mail in anything returned
    expect(JSON.stringify(out)).not.toContain('@example.com')
  })

  it('a tampered receipt never verifies', async () => {
    const m = await marketplace(salesCsv(500))
    const out = await m.run('SELECT COUNT(*) FROM data')
    for (const k of ['jobId', 'contentHash', 'queryHash', 'resultHash', 'measurement'] as const) {
      const bad = structuredClone(out.receipt)
      bad.receipt[k] = `0x${'00'.repeat(32)}`
      expect(() => verifyReceipt(bad)).toThrow()
    }
    expect(() => verifyReceipt({ ...out.receipt, receipt: { ...out.receipt.receipt, epsilonSpentMilli: 1 } })).toThrow()
    expect(() => verifyReceipt({ ...out.receipt, receipt: { ...out.receipt.receipt, licenceId: '2' } })).toThrow()
    expect(() => verifyReceipt({ ...out.receipt, chainId: 1 })).toThrow()
    expect(() => verifyReceipt(out.receipt, { trustedSigners: [new Wallet(`0x${'99'.repeat(32)}`).address] })).toThrow(
      /trusted/,
    )
  })

  it('a retry of the same job id returns the same answer and charges once', async () => {
    const m = await marketplace(salesCsv(500))
    const job = await m.sign('SELECT COUNT(*) FROM data')
    const { runJob } = await import('../../tee-sim/src/enclave/jobs')
    const src = async () => [m.d.ciphertext]
    const a = await runJob(m.enclave, job, src)
    const b = await runJob(m.enclave, job, src)
    expect(b).toEqual(a)
    expect(m.enclave.state.ledger['1'].spentMilli).toBe(1000)
    expect(m.enclave.state.ledger['1'].jobs).toBe(1)
  })

  describe('is refused before anything is fetched or decrypted', () => {
    it.each([
      [
        'a bad signature',
        async (m: Awaited<ReturnType<typeof marketplace>>) =>
          m.run('SELECT COUNT(*) FROM data', {}, new Wallet(`0x${'c3'.repeat(32)}`)),
        RequestSignatureError,
      ],
      [
        'an expired request',
        async (m: Awaited<ReturnType<typeof marketplace>>) => m.run('SELECT COUNT(*) FROM data', { deadline: 1 }),
        InvalidInputError,
      ],
      [
        'a query that does not match its hash',
        async (m: Awaited<ReturnType<typeof marketplace>>) =>
          m.run('SELECT COUNT(*) FROM data', { queryHash: `0x${'00'.repeat(32)}` }),
        InvalidInputError,
      ],
      [
        'an unknown licence',
        async (m: Awaited<ReturnType<typeof marketplace>>) => m.run('SELECT COUNT(*) FROM data', { licenceId: '9' }),
        LicenceInvalidError,
      ],
      [
        'SELECT *',
        async (m: Awaited<ReturnType<typeof marketplace>>) => m.run('SELECT * FROM data'),
        QueryRejectedError,
      ],
      [
        'MIN under DP',
        async (m: Awaited<ReturnType<typeof marketplace>>) => m.run('SELECT MIN(price) FROM data'),
        PolicyViolationError,
      ],
    ])('%s', async (_, go, cls) => {
      const m = await marketplace(salesCsv(100))
      await expect(go(m)).rejects.toThrow(cls)
      expect(m.fetchedCount()).toBe(0)
      expect(m.enclave.state.ledger['1']?.spentMilli ?? 0).toBe(0)
    })

    it('an expired licence, exhausted jobs, another asset, frozen or revoked assets, an unapproved build', async () => {
      const m = await marketplace(salesCsv(100))
      const l = m.chain.licences.get(1n)!
      m.chain.licences.set(1n, { ...l, expiresAt: 1n })
      await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(/expired/)
      m.chain.licences.set(1n, { ...l, jobsLeft: 0n })
      await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(/no jobs/)
      m.chain.licences.set(1n, { ...l, tokenId: 2n })
      await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(/for asset 2/)
      m.chain.licences.set(1n, l)
      const a = m.chain.assets.get(1n)!
      m.chain.assets.set(1n, { ...a, frozen: true })
      await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(/frozen/)
      m.chain.approved.clear()
      m.chain.assets.set(1n, a)
      await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(MeasurementNotApprovedError)
      m.chain.approved.add(m.enclave.identity.measurement)
      await expect(m.run('SELECT COUNT(*) FROM data', { contentHash: `0x${'ee'.repeat(32)}` })).rejects.toThrow(
        AssetUnavailableError,
      )
      expect(m.fetchedCount()).toBe(0)
    })

    it('a revoked asset has its key destroyed (crypto-shredding, R70), even after un-revoking', async () => {
      const m = await marketplace(salesCsv(100))
      const a = m.chain.assets.get(1n)!
      m.chain.assets.set(1n, { ...a, revoked: true })
      await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(/revoked/)
      expect(m.enclave.state.assets[m.d.contentHash].wrappedKey).toBeNull()
      m.chain.assets.set(1n, a)
      await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(UnknownAssetError)
    })
  })

  it('refuses a query that would exceed the ε budget before it runs (on-chain or enclave ledger, whichever is lower)', async () => {
    const m = await marketplace(salesCsv(200), { epsilonMilli: 2500 })
    await m.run('SELECT COUNT(*) FROM data')
    await m.run('SELECT COUNT(*) FROM data')
    // The chain has not recorded either receipt yet; the enclave's own ledger still stops the third.
    await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(BudgetExhaustedError)
    expect(m.fetchedCount()).toBe(2)
    // And when the chain says less is left than the ledger does, the chain wins.
    const l = m.chain.licences.get(1n)!
    m.chain.licences.set(1n, { ...l, epsilonLeftMilli: 0n })
    expect(m.enclave.budget.remaining('1', { epsilonLeftMilli: 0, jobsLeft: 10 }).epsilonMilli).toBe(0)
  })

  it('charges nothing when the ciphertext turns out to be corrupt', async () => {
    const m = await marketplace(salesCsv(200))
    const { runJob } = await import('../../tee-sim/src/enclave/jobs')
    const bad = m.d.ciphertext.slice()
    bad[bad.length - 3] ^= 1
    await expect(runJob(m.enclave, await m.sign('SELECT COUNT(*) FROM data'), async () => [bad])).rejects.toThrow(
      /authenticate/,
    )
    expect(m.enclave.state.ledger['1'].spentMilli).toBe(0)
    expect(m.enclave.budget.remaining('1', { epsilonLeftMilli: 10_000, jobsLeft: 1000 }).epsilonMilli).toBe(10_000)
  })
})

describe('aggregates-only policy (minimum group size k)', () => {
  it('returns exact aggregates, suppresses groups smaller than k, and charges no ε', async () => {
    const csv = salesCsv(100) + 'west,5,1,solo@example.com\n' // east: 10 rows (= k), west: 1
    const m = await marketplace(csv, { policy: { mode: 'aggregates-only', minGroupSize: 10, allowMinMax: true } })
    const r = await m.query('SELECT region, COUNT(*), MIN(price), MAX(price), SUM(qty) FROM data GROUP BY region')
    expect(r.rows.map((x) => x[0])).toEqual(['east', 'north', 'south'])
    const north = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 10 < 6)
    expect(r.rows.find((x) => x[0] === 'north')).toEqual([
      'north',
      north.length,
      Math.min(...north.map((i) => (i % 100) + 1)),
      Math.max(...north.map((i) => (i % 100) + 1)),
      north.reduce((a, i) => a + (i % 7), 0),
    ])
    expect(r.privacy).toMatchObject({ mode: 'aggregates-only', epsilonSpentMilli: 0, minGroupSize: 10 })
  })
})
