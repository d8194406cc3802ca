// The enclave's own ε and job ledger per licence (sequential composition: ε adds up across queries, Dwork
// & Roth 2014 Thm 3.16). The chain is the authority on what was charged: quota and ε are spent only by a
// receipt that ComputeLedger recorded (DESIGN §3 "Compute job" step 5). The enclave adds what the chain
// cannot know yet — jobs it answered whose receipts are not recorded — so the operator cannot get more
// answers than the licence allows by delaying the recording: what is left is the on-chain remainder minus
// those answered-but-unrecorded jobs, minus in-flight reservations.
//
// An answered job stops counting when the chain records it (the chain's remainder holds it from then on)
// or when its request deadline passed RECORDING_GRACE_S ago without a recording: the worker never records
// after the deadline, so such a job expired and cost the buyer nothing, and the enclave must not keep
// charging it either (issue 6). What a simulation cannot guarantee: an operator that keeps an expired
// job's sealed result and hands it to a colluding buyer gets one answer the chain never charged; a real
// deployment closes this with a deadline check in ComputeLedger (the receipt would then carry it).
import { BudgetExhaustedError, LicenceInvalidError } from '../errors'
import type { AnsweredJob, LedgerEntry } from './state'

/**
 * How long after a request's deadline an unrecorded receipt may still land: the worker sends none after
 * the deadline, but one sent just before can take a few blocks to be mined.
 */
export const RECORDING_GRACE_S = 300

export interface OnChainAllowance {
  epsilonLeftMilli: number
  jobsLeft: number
}

/** The job a reservation is for: its id (as ComputeLedger records it) and the request's deadline. */
export interface JobRef {
  jobId: string
  /** Unix seconds, from the signed request. */
  deadline: number
}

export interface Reservation {
  readonly licenceId: string
  readonly epsilonMilli: number
  /** The job was answered: it counts until the chain records it or it expires. Idempotent per job id. */
  commit(): void
  cancel(): void
}

export class PrivacyBudget {
  private readonly reservedEps = new Map<string, number>()
  private readonly reservedJobs = new Map<string, number>()
  /** Per-licence lock over settle-then-reserve (reserveOnChain). */
  private readonly settling = new Map<string, Promise<unknown>>()

  constructor(private readonly ledger: Record<string, LedgerEntry>) {
    // State sealed by a build that kept only totals carries no job ids to reconcile: start its count afresh.
    for (const [id, e] of Object.entries(ledger)) if (!e.answered) delete ledger[id]
  }

  private entry(licenceId: string): LedgerEntry {
    return (this.ledger[licenceId] ??= { spentMilli: 0, jobs: 0, answered: {} })
  }

  /** What this licence may still spend, counting answered-but-unrecorded jobs and in-flight reservations. */
  remaining(licenceId: string, onChain: OnChainAllowance): { epsilonMilli: number; jobs: number } {
    const answered = Object.values(this.ledger[licenceId]?.answered ?? {})
    const eps =
      onChain.epsilonLeftMilli -
      answered.reduce((a, j) => a + j.epsilonMilli, 0) -
      (this.reservedEps.get(licenceId) ?? 0)
    const jobs = onChain.jobsLeft - answered.length - (this.reservedJobs.get(licenceId) ?? 0)
    return { epsilonMilli: Math.max(0, eps), jobs: Math.max(0, jobs) }
  }

  /**
   * Settles this licence's answered jobs against the chain: a recorded one is now in the chain's remainder,
   * an unrecorded one past its deadline + RECORDING_GRACE_S expired and is released. Returns how many
   * jobs were released. Jobs use `reserveOnChain`, which pairs it with the licence's remainder.
   */
  async reconcile(
    licenceId: string,
    isRecorded: (jobId: string) => Promise<boolean>,
    nowSeconds: number,
  ): Promise<number> {
    const e = this.ledger[licenceId]
    if (!e) return 0
    const ids = Object.keys(e.answered)
    const recorded = await Promise.all(ids.map((id) => isRecorded(id)))
    let released = 0
    ids.forEach((id, i) => {
      const job = e.answered[id]
      if (!job) return
      if (recorded[i]) {
        delete e.answered[id]
      } else if (nowSeconds > job.deadline + RECORDING_GRACE_S) {
        delete e.answered[id]
        e.spentMilli -= job.epsilonMilli
        e.jobs -= 1
        released++
      }
    })
    return released
  }

  /**
   * Reserves one job and `epsilonMilli` against the licence as the chain has it now (the way jobs reserve).
   * The licence is read before and after settling its answered jobs (reconcile), until no recording for
   * it landed in between: otherwise a job recorded just after it was checked would count twice — in the
   * chain's remainder and as answered — and the licence's last job would be refused. Settling and
   * reserving hold a per-licence lock, so another job's settling cannot drop a recorded job between this
   * one's read and its reservation (which would let one job too many run). After a few unstable reads
   * it uses the last one: a job counted twice is refused, never over-answered.
   */
  async reserveOnChain(
    licenceId: string,
    epsilonMilli: number,
    chain: {
      job: JobRef
      readLicence: () => Promise<{ jobsLeft: bigint; epsilonLeftMilli: bigint }>
      isRecorded: (jobId: string) => Promise<boolean>
      nowSeconds: number
    },
  ): Promise<Reservation> {
    const run = (this.settling.get(licenceId) ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        let after = await chain.readLicence()
        for (let i = 0; i < 5; i++) {
          const before = after
          await this.reconcile(licenceId, chain.isRecorded, chain.nowSeconds)
          after = await chain.readLicence()
          if (after.jobsLeft === before.jobsLeft && after.epsilonLeftMilli === before.epsilonLeftMilli) break
        }
        const onChain = { epsilonLeftMilli: Number(after.epsilonLeftMilli), jobsLeft: Number(after.jobsLeft) }
        return this.reserve(licenceId, epsilonMilli, onChain, chain.job)
      })
    this.settling.set(licenceId, run)
    try {
      return await run
    } finally {
      if (this.settling.get(licenceId) === run) this.settling.delete(licenceId)
    }
  }

  /**
   * Why the enclave's remainder is below the chain's, for a refusal's message: the chain shows what is
   * recorded, so a buyer who sees jobs or ε left there must learn what holds them and until when (an
   * answered job whose recording the ledger refused still counts until its deadline passes).
   */
  private held(licenceId: string, onChain: OnChainAllowance): string {
    const answered = Object.values(this.ledger[licenceId]?.answered ?? {})
    const running = this.reservedJobs.get(licenceId) ?? 0
    if (!answered.length && !running) return ''
    const parts = [`the chain shows ${onChain.jobsLeft} job(s) and ε ${onChain.epsilonLeftMilli / 1000} left`]
    if (answered.length) {
      const until = Math.max(...answered.map((j) => j.deadline)) + RECORDING_GRACE_S
      const eps = answered.reduce((a, j) => a + j.epsilonMilli, 0) / 1000
      parts.push(
        `${answered.length} answered job(s) not recorded on chain hold ${answered.length} job(s) and ε ${eps} until ` +
          `they are recorded or their deadlines pass (at the latest ${new Date(until * 1000).toISOString()})`,
      )
    }
    if (running) parts.push(`${running} job(s) are running`)
    return ` (${parts.join('; ')})`
  }

  /** Reserves one job and `epsilonMilli`; throws BudgetExhaustedError / LicenceInvalidError before anything runs. */
  reserve(licenceId: string, epsilonMilli: number, onChain: OnChainAllowance, job: JobRef): Reservation {
    if (!Number.isSafeInteger(epsilonMilli) || epsilonMilli < 0)
      throw new RangeError('epsilonMilli must be a non-negative integer')
    const left = this.remaining(licenceId, onChain)
    if (left.jobs < 1)
      throw new LicenceInvalidError(`licence ${licenceId} has no jobs left${this.held(licenceId, onChain)}`)
    if (epsilonMilli > left.epsilonMilli) {
      throw new BudgetExhaustedError(
        `query needs ε ${epsilonMilli / 1000}, licence ${licenceId} has ${left.epsilonMilli / 1000} left` +
          this.held(licenceId, onChain),
      )
    }
    const e = this.entry(licenceId)
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
        const id = job.jobId.toLowerCase()
        if (e.answered[id]) return // the same job answered twice (concurrent retries) is charged once
        const answered: AnsweredJob = { epsilonMilli, deadline: job.deadline }
        e.answered[id] = answered
        e.spentMilli += epsilonMilli
        e.jobs += 1
      },
      cancel: release,
    }
  }
}
