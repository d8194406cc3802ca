// The indexer's configuration variables, read and checked in one place; a bad value names the setting.
import type { Bindings } from '../env'
import { ConfigError } from '../services/config'

/** The worker's bindings plus the variables the indexer and the audit routes read. */
export type IndexerBindings = Bindings & {
  /** Blocks a log must be buried under before it is indexed (0 locally; more on a chain that reorganises). */
  INDEXER_CONFIRMATIONS?: string
  /** Largest block range one `eth_getLogs` asks for. */
  INDEXER_RANGE_BLOCKS?: string
  /** Most logs written in one D1 batch (a range with more is cut at a block boundary). */
  INDEXER_MAX_LOGS?: string
  /** Most statements a reorganisation's rollback writes in one D1 batch (more are chunked under a marker). */
  INDEXER_ROLLBACK_BATCH?: string
  /** Bearer token that authorises `POST /api/audit/reindex`; the endpoint is off when unset. */
  ADMIN_TOKEN?: string
  /** Key of the relayer account (shared with the publish flow) that anchors ledger roots in LedgerAnchor; anchoring is off when unset. */
  RELAYER_KEY?: string
  /** Anchor a new root when at least this many blocks were indexed since the last anchor. */
  ANCHOR_EVERY_BLOCKS?: string
}

export interface IndexerSettings {
  confirmations: number
  rangeBlocks: number
  maxLogs: number
  rollbackBatch: number
}

function intSetting(env: IndexerBindings, name: keyof IndexerBindings, fallback: number, min: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < min)
    throw new ConfigError(name, `must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`)
  return n
}

export function indexerSettings(env: IndexerBindings): IndexerSettings {
  return {
    confirmations: intSetting(env, 'INDEXER_CONFIRMATIONS', 0, 0),
    rangeBlocks: intSetting(env, 'INDEXER_RANGE_BLOCKS', 2000, 1),
    // D1 counts each statement of a batch towards the per-invocation query limit; an event is 1–4 statements.
    maxLogs: intSetting(env, 'INDEXER_MAX_LOGS', 250, 1),
    rollbackBatch: intSetting(env, 'INDEXER_ROLLBACK_BATCH', 500, 1),
  }
}

export function anchorEveryBlocks(env: IndexerBindings): number {
  return intSetting(env, 'ANCHOR_EVERY_BLOCKS', 100, 1)
}
