// The enclave's own ε ledger per licence (sequential composition: ε adds up across queries, Dwork &
// Roth 2014 Thm 3.16). It trusts neither the operator nor its own view alone: what is left is the
// smaller of the on-chain remainder and (first on-chain view − what this enclave has charged).
// A query is reserved before it runs and refused if it would exceed what is left.
import { BudgetExhaustedError, LicenceInvalidError } from '../errors'
import type { LedgerEntry } from './state'

export interface OnChainAllowance {
  epsilonLeftMilli: number
  jobsLeft: number
}

export interface Reservation {
  readonly licenceId: string
  readonly epsilonMilli: number
  commit(): void
  cancel(): void
}

export class PrivacyBudget {
  private readonly reservedEps = new Map<string, number>()
  private readonly reservedJobs = new Map<string, number>()

  constructor(private readonly ledger: Record<string, LedgerEntry>) {}

  private entry(licenceId: string, onChain: OnChainAllowance): LedgerEntry {
    let e = this.ledger[licenceId]
    if (!e)
      e = this.ledger[licenceId] = {
        baseEpsilonMilli: onChain.epsilonLeftMilli,
        spentMilli: 0,
        baseJobs: onChain.jobsLeft,
        jobs: 0,
      }
    return e
  }

  /** What this licence may still spend, counting in-flight reservations. */
  remaining(licenceId: string, onChain: OnChainAllowance): { epsilonMilli: number; jobs: number } {
    const e = this.ledger[licenceId] ?? {
      baseEpsilonMilli: onChain.epsilonLeftMilli,
      spentMilli: 0,
      baseJobs: onChain.jobsLeft,
      jobs: 0,
    }
    const eps =
      Math.min(onChain.epsilonLeftMilli, e.baseEpsilonMilli - e.spentMilli) - (this.reservedEps.get(licenceId) ?? 0)
    const jobs = Math.min(onChain.jobsLeft, e.baseJobs - e.jobs) - (this.reservedJobs.get(licenceId) ?? 0)
    return { epsilonMilli: Math.max(0, eps), jobs: Math.max(0, jobs) }
  }

  /** Reserves one job and `epsilonMilli`; throws BudgetExhaustedError / LicenceInvalidError before anything runs. */
  reserve(licenceId: string, epsilonMilli: number, onChain: OnChainAllowance): Reservation {
    if (!Number.isSafeInteger(epsilonMilli) || epsilonMilli < 0)
      throw new RangeError('epsilonMilli must be a non-negative integer')
    const left = this.remaining(licenceId, onChain)
    if (left.jobs < 1) throw new LicenceInvalidError(`licence ${licenceId} has no jobs left`)
    if (epsilonMilli > left.epsilonMilli) {
      throw new BudgetExhaustedError(
        `query needs ε ${epsilonMilli / 1000}, licence ${licenceId} has ${left.epsilonMilli / 1000} left`,
      )
    }
    const e = this.entry(licenceId, onChain)
    this.reservedEps.set(licenceId, (this.reservedEps.get(licenceId) ?? 0) + epsilonMilli)
    this.reservedJobs.set(licenceId, (this.reservedJobs.get(licenceId) ?? 0) + 1)
    let open = true
    const release = () => {
      if (!open) throw new Error('reservation already settled')
      open = false
      this.reservedEps.set(licenceId, this.reservedEps.get(licenceId)! - epsilonMilli)
      this.reservedJobs.set(licenceId, this.reservedJobs.get(licenceId)! - 1)
    }
    return {
      licenceId,
      epsilonMilli,
      commit() {
        release()
        e.spentMilli += epsilonMilli
        e.jobs += 1
      },
      cancel: release,
    }
  }
}
