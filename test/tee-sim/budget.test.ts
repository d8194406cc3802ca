import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { PrivacyBudget } from '../../tee-sim/src/enclave/budget'
import { BudgetExhaustedError, LicenceInvalidError } from '../../tee-sim/src/errors'
import type { LedgerEntry } from '../../tee-sim/src/enclave/state'

type Step =
  | { kind: 'reserve'; eps: number; settle: 'commit' | 'cancel' | 'later' }
  | { kind: 'record'; eps: number }
  | { kind: 'settle-all' }

describe('PrivacyBudget', () => {
  it('spent ε never exceeds the budget over any query sequence (with the chain recording some receipts)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 1, max: 30 }),
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('reserve' as const),
              eps: fc.integer({ min: 0, max: 1500 }),
              settle: fc.constantFrom('commit' as const, 'cancel' as const, 'later' as const),
            }),
            fc.record({ kind: fc.constant('record' as const), eps: fc.integer({ min: 0, max: 1500 }) }),
            fc.record({ kind: fc.constant('settle-all' as const) }),
          ),
          { maxLength: 60 },
        ),
        (budget, jobs, steps: Step[]) => {
          const ledger: Record<string, LedgerEntry> = {}
          const b = new PrivacyBudget(ledger)
          let chainEps = budget
          let chainJobs = jobs
          let committedEps = 0
          let committedJobs = 0
          const pending: { commit(): void; epsilonMilli: number }[] = []
          for (const s of steps) {
            if (s.kind === 'record') {
              // the chain decrements by a recorded receipt, never below zero
              const d = Math.min(chainEps, s.eps, committedEps)
              chainEps -= d
              continue
            }
            if (s.kind === 'settle-all') {
              for (const p of pending.splice(0)) {
                p.commit()
                committedEps += p.epsilonMilli
                committedJobs++
              }
              continue
            }
            try {
              const r = b.reserve('7', s.eps, { epsilonLeftMilli: chainEps, jobsLeft: chainJobs })
              if (s.settle === 'commit') {
                r.commit()
                committedEps += s.eps
                committedJobs++
              } else if (s.settle === 'cancel') r.cancel()
              else pending.push(r)
            } catch (e) {
              expect(e instanceof BudgetExhaustedError || e instanceof LicenceInvalidError).toBe(true)
            }
            expect(committedEps + pending.reduce((a, p) => a + p.epsilonMilli, 0)).toBeLessThanOrEqual(budget)
            expect(committedJobs + pending.length).toBeLessThanOrEqual(jobs)
          }
          for (const p of pending.splice(0)) {
            p.commit()
            committedEps += p.epsilonMilli
          }
          expect(committedEps).toBeLessThanOrEqual(budget)
          expect(ledger['7']?.spentMilli ?? 0).toBe(committedEps)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('a settled reservation cannot be settled again', () => {
    const b = new PrivacyBudget({})
    const r = b.reserve('1', 10, { epsilonLeftMilli: 100, jobsLeft: 1 })
    r.commit()
    expect(() => r.cancel()).toThrow(/already settled/)
    expect(() => b.reserve('1', 10, { epsilonLeftMilli: 100, jobsLeft: 1 })).toThrow(/no jobs/)
  })
})
