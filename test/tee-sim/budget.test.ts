import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PrivacyBudget, RECORDING_GRACE_S } from '../../tee-sim/src/enclave/budget'
import { BudgetExhaustedError, LicenceInvalidError } from '../../tee-sim/src/errors'
import type { LedgerEntry } from '../../tee-sim/src/enclave/state'
import { runJob } from '../../tee-sim/src/enclave/jobs'
import { marketplace, salesCsv } from './support'

type Step =
  | { kind: 'reserve'; eps: number; ttl: number; settle: 'commit' | 'cancel' | 'later' }
  | { kind: 'record' }
  | { kind: 'settle-all' }
  | { kind: 'advance'; seconds: number }
  | { kind: 'reconcile' }

interface ModelJob {
  id: string
  eps: number
  deadline: number
  recorded: boolean
  released: boolean
}

describe('PrivacyBudget', () => {
  it('ε answered never exceeds the budget, whatever the chain records, expires or is settled later', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('reserve' as const),
              eps: fc.integer({ min: 0, max: 1500 }),
              ttl: fc.integer({ min: 1, max: 600 }),
              settle: fc.constantFrom('commit' as const, 'cancel' as const, 'later' as const),
            }),
            fc.record({ kind: fc.constant('record' as const) }),
            fc.record({ kind: fc.constant('settle-all' as const) }),
            fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 900 }) }),
            fc.record({ kind: fc.constant('reconcile' as const) }),
          ),
          { maxLength: 60 },
        ),
        async (budget, quota, steps: Step[]) => {
          const ledger: Record<string, LedgerEntry> = {}
          const b = new PrivacyBudget(ledger)
          let now = 1_000_000
          let chainEps = budget
          let chainJobs = quota
          const answered: ModelJob[] = []
          const later: Array<{ commit(): void; job: ModelJob }> = []
          const commit = (r: { commit(): void }, job: ModelJob) => {
            r.commit()
            answered.push(job)
          }
          for (const [i, s] of steps.entries()) {
            if (s.kind === 'record') {
              // The worker records only before the deadline; the ledger only within what is left.
              const j = answered.find((x) => !x.recorded && !x.released && now <= x.deadline)
              if (j && chainEps >= j.eps && chainJobs >= 1) {
                j.recorded = true
                chainEps -= j.eps
                chainJobs -= 1
              }
            } else if (s.kind === 'settle-all') {
              for (const p of later.splice(0)) commit(p, p.job)
            } else if (s.kind === 'advance') {
              now += s.seconds
            } else if (s.kind === 'reconcile') {
              const byId = new Map(answered.map((j) => [j.id, j]))
              await b.reconcile('7', async (id) => byId.get(id)!.recorded, now)
              for (const j of answered) if (!j.recorded && now > j.deadline + RECORDING_GRACE_S) j.released = true
            } else {
              const job: ModelJob = {
                id: `0x${i.toString(16)}`,
                eps: s.eps,
                deadline: now + s.ttl,
                recorded: false,
                released: false,
              }
              try {
                const r = b.reserve(
                  '7',
                  s.eps,
                  { epsilonLeftMilli: chainEps, jobsLeft: chainJobs },
                  {
                    jobId: job.id,
                    deadline: job.deadline,
                  },
                )
                if (s.settle === 'commit') commit(r, job)
                else if (s.settle === 'cancel') r.cancel()
                else later.push({ commit: () => r.commit(), job })
              } catch (e) {
                expect(e instanceof BudgetExhaustedError || e instanceof LicenceInvalidError).toBe(true)
              }
            }
            // Whatever may still reach the buyer (recorded, or answered and not released) plus what is
            // being computed fits the licence.
            const live = answered.filter((j) => j.recorded || !j.released)
            const inFlight = later.map((p) => p.job)
            expect([...live, ...inFlight].reduce((a, j) => a + j.eps, 0)).toBeLessThanOrEqual(budget)
            expect(live.length + inFlight.length).toBeLessThanOrEqual(quota)
            expect(ledger['7']?.spentMilli ?? 0).toBe(live.reduce((a, j) => a + j.eps, 0))
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a settled reservation cannot be settled again; a job id is charged once', () => {
    const b = new PrivacyBudget({})
    const job = { jobId: '0xab', deadline: 100 }
    const r = b.reserve('1', 10, { epsilonLeftMilli: 100, jobsLeft: 2 }, job)
    r.commit()
    expect(() => r.cancel()).toThrow(/already settled/)
    b.reserve('1', 10, { epsilonLeftMilli: 100, jobsLeft: 2 }, job).commit()
    expect(b.remaining('1', { epsilonLeftMilli: 100, jobsLeft: 2 })).toEqual({ epsilonMilli: 90, jobs: 1 })
  })

  it("a recording that lands while a job settles is counted once: the licence's last job still runs", async () => {
    const b = new PrivacyBudget({})
    const chain = { jobsLeft: 2n, epsilonLeftMilli: 2000n, recorded: new Set<string>() }
    b.reserve('1', 1000, { epsilonLeftMilli: 2000, jobsLeft: 2 }, { jobId: '0xaa', deadline: 500 }).commit()
    const reservation = await b.reserveOnChain('1', 1000, {
      job: { jobId: '0xbb', deadline: 500 },
      readLicence: async () => ({ jobsLeft: chain.jobsLeft, epsilonLeftMilli: chain.epsilonLeftMilli }),
      isRecorded: async (id) => {
        const seen = chain.recorded.has(id)
        if (!seen) {
          // The worker's recording of 0xaa lands just after the enclave checked it.
          chain.recorded.add(id)
          chain.jobsLeft -= 1n
          chain.epsilonLeftMilli -= 1000n
        }
        return seen
      },
      nowSeconds: 100,
    })
    reservation.commit()
    expect(b.remaining('1', { jobsLeft: 1, epsilonLeftMilli: 1000 })).toEqual({ jobs: 0, epsilonMilli: 0 })
  })

  it('a refusal says what holds the licence when the chain still shows jobs or ε left, and until when', () => {
    const b = new PrivacyBudget({})
    const chain = { epsilonLeftMilli: 1500, jobsLeft: 1 }
    // Answered, and its recording refused by the ledger (say the asset was frozen meanwhile): still held.
    b.reserve('1', 1000, chain, { jobId: '0xaa', deadline: 1_800_000_000 }).commit()
    const refusal = (() => {
      try {
        b.reserve('1', 0, chain, { jobId: '0xbb', deadline: 1_800_000_000 })
      } catch (err) {
        return err as Error
      }
    })()
    expect(refusal).toBeInstanceOf(LicenceInvalidError)
    expect(refusal!.message).toBe(
      'licence 1 has no jobs left (the chain shows 1 job(s) and ε 1.5 left; 1 answered job(s) not recorded on chain ' +
        `hold 1 job(s) and ε 1 until they are recorded or their deadlines pass (at the latest ${new Date((1_800_000_000 + RECORDING_GRACE_S) * 1000).toISOString()}))`,
    )
    // A refusal with nothing held says only what is left.
    const fresh = new PrivacyBudget({})
    expect(() => fresh.reserve('2', 2000, chain, { jobId: '0xcc', deadline: 1 })).toThrow(
      /^query needs ε 2, licence 2 has 1.5 left$/,
    )
  })

  it('drops state sealed with totals only (no job ids to settle against the chain)', () => {
    const ledger = { '1': { baseEpsilonMilli: 100, spentMilli: 100, baseJobs: 1, jobs: 1 } }
    const b = new PrivacyBudget(ledger as unknown as Record<string, LedgerEntry>)
    expect(b.remaining('1', { epsilonLeftMilli: 100, jobsLeft: 1 })).toEqual({ epsilonMilli: 100, jobs: 1 })
  })
})

describe('the enclave counts only what the chain charged (issue 6)', () => {
  it('an answered job that expired unrecorded stops counting; a recorded one keeps counting after its deadline', async () => {
    // Budget for exactly two ε-1 counts.
    const m = await marketplace(salesCsv(200), { epsilonMilli: 2000, jobs: 2 })
    const nowS = () => Math.floor(m.runtime.now() / 1000)
    const expired = await m.run('SELECT COUNT(*) FROM data', { deadline: nowS() + 60 })
    // The worker never recorded it: the deadline passed, the job expired and the buyer paid nothing.
    m.runtime.advance((60 + RECORDING_GRACE_S + 1) * 1000)
    expect(m.chain.recorded.has(expired.jobId)).toBe(false)

    // So the licence's whole budget is still there for two new jobs.
    const a = await m.run('SELECT COUNT(*) FROM data')
    expect(m.enclave.state.ledger['1'].spentMilli).toBe(1000)
    expect(m.enclave.state.ledger['1'].answered[expired.jobId]).toBeUndefined()
    m.chain.record(a.receipt.receipt)
    const b = await m.run('SELECT COUNT(*) FROM data')
    m.chain.record(b.receipt.receipt)
    expect(m.enclave.state.ledger['1']).toMatchObject({ spentMilli: 2000, jobs: 2 })

    // Both were charged on chain: after their deadlines passed they still count, and nothing is left.
    m.runtime.advance((600 + RECORDING_GRACE_S + 1) * 1000)
    await expect(m.run('SELECT COUNT(*) FROM data', { deadline: nowS() + 600 })).rejects.toThrow(LicenceInvalidError)
    expect(m.enclave.state.ledger['1']).toMatchObject({ spentMilli: 2000, jobs: 2, answered: {} })
  })

  it('two asks for one job id racing are answered with the same bytes and charged once, even after the first was recorded', async () => {
    const m = await marketplace(salesCsv(200), { epsilonMilli: 10_000, jobs: 3 })
    const job = await m.sign('SELECT COUNT(*) FROM data')
    let letLateAskRun!: () => void
    const gate = new Promise<void>((r) => (letLateAskRun = r))
    // The late ask passes every check, then waits at the ciphertext fetch while the first ask finishes.
    const late = runJob(m.enclave, job, async () => {
      await gate
      return [m.d.ciphertext]
    })
    const first = await runJob(m.enclave, job, async () => [m.d.ciphertext])
    m.chain.record(first.receipt.receipt)
    await m.run('SELECT COUNT(*) FROM data') // settles the first as recorded
    letLateAskRun()
    expect(await late).toEqual(first)
    expect(m.enclave.state.ledger['1']).toMatchObject({ spentMilli: 2000, jobs: 2 })
    // Chain: 2 jobs left; the enclave holds one answered, unrecorded job: 1 left, not 0.
    const l = m.chain.licences.get(1n)!
    expect(
      m.enclave.budget.remaining('1', { epsilonLeftMilli: Number(l.epsilonLeftMilli), jobsLeft: Number(l.jobsLeft) }),
    ).toMatchObject({ jobs: 1 })
  })

  it('an answered job keeps counting until its deadline and grace pass (a late receipt may still land)', async () => {
    const m = await marketplace(salesCsv(200), { epsilonMilli: 1000, jobs: 5 })
    const nowS = Math.floor(m.runtime.now() / 1000)
    await m.run('SELECT COUNT(*) FROM data', { deadline: nowS + 60 })
    m.runtime.advance((60 + RECORDING_GRACE_S - 5) * 1000)
    await expect(m.run('SELECT COUNT(*) FROM data')).rejects.toThrow(BudgetExhaustedError)
    m.runtime.advance(10_000)
    await expect(m.run('SELECT COUNT(*) FROM data')).resolves.toMatchObject({ receipt: expect.anything() })
  })
})
