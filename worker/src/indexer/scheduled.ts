// Owns the cron run: index new blocks, fetch metadata that is due, and anchor the ledger root when due.
// Each step's failure is logged once and does not stop the steps after it.
import { anchorIfDue } from './anchor'
import { indexNow } from './indexer'
import { syncMetadata } from './metadata'
import type { IndexerBindings } from './settings'

export interface ScheduledReport {
  index?: Awaited<ReturnType<typeof indexNow>>
  metadata?: Awaited<ReturnType<typeof syncMetadata>>
  anchor?: Awaited<ReturnType<typeof anchorIfDue>>
  errors: string[]
}

/** What the `scheduled` handler runs (`npm start` triggers it on an interval; crons never fire locally). */
export async function runScheduled(env: IndexerBindings, scheduledTime: number): Promise<ScheduledReport> {
  const report: ScheduledReport = { errors: [] }
  const step = async <K extends 'index' | 'metadata' | 'anchor'>(name: K, fn: () => Promise<ScheduledReport[K]>) => {
    try {
      report[name] = await fn()
    } catch (err) {
      console.error(`scheduled ${name} failed`, err)
      report.errors.push(`${name}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
  await step('index', () => indexNow(env))
  if (report.index) {
    const chainId = report.index.chainId
    await step('metadata', () => syncMetadata(env, chainId, Math.floor(scheduledTime / 1000)))
    await step('anchor', () => anchorIfDue(env))
  }
  return report
}
