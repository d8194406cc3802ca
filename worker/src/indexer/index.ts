// The indexer's public door: what the worker's handlers and other routes call.
export { indexNow, reindex, replayDerived, type IndexRun } from './indexer'
export { runScheduled, type ScheduledReport } from './scheduled'
export { ledgerSummary, type LedgerSummary } from './export'
export { metadataCid } from './metadata'
export { nudgeIndexer } from './nudge'
export { assetIndexStatus, jobIndexStatus, type IndexStatus } from './status'
export type { IndexerBindings } from './settings'
