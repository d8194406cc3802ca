// Owns undoing a reorganisation in the mirror, scoped to what the lost blocks wrote: the events above the
// fork block go, and only the derived row groups those events wrote (rowsTouched: an asset, a token's
// offers, a licence, a receipt, …) are deleted and rebuilt from the events that remain, in ledger order.
// Rows of every other asset are not touched. The result equals a replay from genesis (R46).
import { DERIVED_TABLES, deriveStatementsFor, GROUP_KEY, rowsTouched, type DerivedTable } from './derive'
import type { LedgerEvent } from './ledger'

/** Events above `fork`, and the remaining events that write a group they wrote, in ledger order. */
export interface RollbackPlan {
  /** Per table, the row groups the lost events wrote. */
  groups: Map<DerivedTable, Set<string>>
  /** Events at or below the fork that write at least one of those groups. */
  reapply: LedgerEvent[]
  /** Assets whose rows change (for the search index). */
  tokens: string[]
}

const EVENT_COLUMNS = `chain_id AS chainId, block_number AS blockNumber, block_hash AS blockHash, block_time AS blockTime,
  tx_hash AS txHash, log_index AS logIndex, address, contract, name, args, detail`

/** Which contracts' events can write a group of `table` without naming a token or licence on the row. */
const UNKEYED: Partial<Record<DerivedTable, string>> = {
  enclaves: 'EnclaveRegistry',
  measurements: 'EnclaveRegistry',
  anchors: 'LedgerAnchor',
  market_settings: 'DataMarket',
}

export async function planRollback(db: D1Database, chainId: number, fork: number): Promise<RollbackPlan> {
  const lost = (
    await db
      .prepare(`SELECT ${EVENT_COLUMNS}, token_id AS tokenId FROM events WHERE chain_id = ? AND block_number > ?`)
      .bind(chainId, fork)
      .all<LedgerEvent & { tokenId: string | null }>()
  ).results
  const groups = new Map<DerivedTable, Set<string>>()
  for (const e of lost) {
    for (const { table, key } of rowsTouched(e)) {
      if (!groups.has(table)) groups.set(table, new Set())
      groups.get(table)!.add(key)
    }
  }
  const tokens = new Set([...(groups.get('assets') ?? []), ...(groups.get('offers') ?? [])])
  for (const e of lost) if (e.tokenId && e.contract === 'DataAssetNFT') tokens.add(e.tokenId)

  // Candidates by the indexed token and licence columns; groups keyed otherwise (receipts by job, which
  // also name their licence; enclaves, measurements, anchors, settings: few events) by contract. A group
  // job's events (its parts and GroupJobRecorded, R67) share one transaction, so they go or stay together.
  const licences = new Set(groups.get('licences') ?? [])
  for (const e of lost) {
    const licenceId = e.contract === 'ComputeLedger' ? (JSON.parse(e.args) as { licenceId?: string }).licenceId : null
    if (licenceId) licences.add(licenceId)
  }
  const contracts = new Set([...groups.keys()].flatMap((t) => UNKEYED[t] ?? []))
  const candidates = groups.size
    ? (
        await db
          .prepare(
            `SELECT ${EVENT_COLUMNS} FROM events WHERE chain_id = ? AND block_number <= ? AND (
               token_id IN (SELECT value FROM json_each(?)) OR licence_id IN (SELECT value FROM json_each(?))
               OR contract IN (SELECT value FROM json_each(?)))
             ORDER BY block_number, log_index`,
          )
          .bind(
            chainId,
            fork,
            JSON.stringify([...(groups.get('assets') ?? []), ...(groups.get('offers') ?? [])]),
            JSON.stringify([...licences]),
            JSON.stringify([...contracts]),
          )
          .all<LedgerEvent>()
      ).results
    : []
  const reapply = candidates.filter((e) => rowsTouched(e).some(({ table, key }) => groups.get(table)?.has(key)))
  return { groups, reapply, tokens: [...tokens] }
}

/** The statements that delete the plan's row groups and rebuild them from the remaining events. */
export function rollbackStatements(db: D1Database, chainId: number, plan: RollbackPlan): D1PreparedStatement[] {
  const statements: D1PreparedStatement[] = []
  for (const table of DERIVED_TABLES) {
    const keys = plan.groups.get(table)
    if (!keys?.size) continue
    statements.push(
      db
        .prepare(`DELETE FROM ${table} WHERE chain_id = ? AND ${GROUP_KEY[table]} IN (SELECT value FROM json_each(?))`)
        .bind(chainId, JSON.stringify([...keys])),
    )
  }
  for (const e of plan.reapply) {
    const touched = rowsTouched(e)
    // Only the statements for groups being rebuilt: a kept purchase must not rewrite its (unchanged) fee
    // payment with the treasury of today when only its licence is rebuilt.
    statements.push(
      ...deriveStatementsFor(db, e, (table) =>
        touched.some((t) => t.table === table && plan.groups.get(table)?.has(t.key)),
      ),
    )
  }
  return statements
}
