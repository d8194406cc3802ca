// Owns the derived tables: the SQL each event applies to assets, offers, licences, receipts, enclaves,
// measurements, payments and anchors. It reads only the event (its canonical args and detail), so the
// incremental indexer and a replay from `events` write the same rows (R46). Statements set absolute
// values taken from the event wherever the chain provides them (jobs left, ε left, amendment index).
import type { LedgerEvent } from './ledger'

type Args = Record<string, string>

const ZERO = '0x0000000000000000000000000000000000000000'

/** The derived tables, in the order a replay clears them. */
export const DERIVED_TABLES = [
  'assets',
  'offers',
  'licences',
  'receipts',
  'enclaves',
  'measurements',
  'market_settings',
  'payments',
  'anchors',
] as const

/** The asset / licence an event is about, from its own arguments (stored on the events row for history). */
export function subjectOf(e: Pick<LedgerEvent, 'contract' | 'name' | 'args'>): {
  tokenId: string | null
  licenceId: string | null
} {
  const a = JSON.parse(e.args) as Args
  const tokenId = e.contract === 'DataAssetNFT' || e.contract === 'DataMarket' ? (a.tokenId ?? null) : null
  const licenceId = e.contract === 'DataMarket' || e.contract === 'ComputeLedger' ? (a.licenceId ?? null) : null
  return { tokenId, licenceId }
}

export type DerivedTable = (typeof DERIVED_TABLES)[number]

/**
 * The derived row groups an event writes: per table, the key whose rows it changes. A scoped rollback
 * (rollback.ts) deletes exactly the groups the rolled-back events wrote and re-applies the remaining
 * events that write those groups. Payments are one group per event (they never change afterwards).
 */
export function rowsTouched(e: Pick<LedgerEvent, 'contract' | 'name' | 'args' | 'blockNumber' | 'logIndex'>): Array<{
  table: DerivedTable
  key: string
}> {
  const a = JSON.parse(e.args) as Args
  const payment = { table: 'payments' as const, key: `${e.blockNumber}:${e.logIndex}` }
  switch (`${e.contract}.${e.name}`) {
    case 'DataAssetNFT.Transfer':
      // A change of hands also retires the token's offers set before it (the `superseded` flag).
      return a.from === ZERO
        ? [{ table: 'assets', key: a.tokenId }]
        : [
            { table: 'assets', key: a.tokenId },
            { table: 'offers', key: a.tokenId },
          ]
    case 'DataAssetNFT.AssetMinted':
    case 'DataAssetNFT.AssetAmended':
    case 'DataAssetNFT.AssetRevoked':
    case 'DataAssetNFT.AssetFrozen':
    case 'DataAssetNFT.AssetUnfrozen':
    case 'DataAssetNFT.AssetDelegateSet':
    case 'DataAssetNFT.AssetRoyaltySet':
      return [{ table: 'assets', key: a.tokenId }]
    case 'DataMarket.OfferSet':
    case 'DataMarket.OfferWithdrawn':
      return [{ table: 'offers', key: a.tokenId }]
    case 'DataMarket.LicencePurchased':
      return [{ table: 'licences', key: a.licenceId }, payment]
    case 'DataMarket.LicenceConsumed':
      return [{ table: 'licences', key: a.licenceId }]
    case 'DataMarket.PaymentWithdrawn':
      return [payment]
    case 'DataMarket.TreasurySet':
    case 'DataMarket.PlatformFeeSet':
      return [{ table: 'market_settings', key: 'chain' }]
    case 'EnclaveRegistry.MeasurementApproved':
    case 'EnclaveRegistry.MeasurementRetired':
      return [{ table: 'measurements', key: a.measurement }]
    case 'EnclaveRegistry.EnclaveRegistered':
    case 'EnclaveRegistry.EnclaveDeregistered':
      return [{ table: 'enclaves', key: a.signer }]
    case 'ComputeLedger.JobRecorded':
    case 'ComputeLedger.JobPartRecorded':
    case 'ComputeLedger.GroupJobRecorded':
      return [{ table: 'receipts', key: a.jobId }]
    case 'LedgerAnchor.RootAnchored':
      return [{ table: 'anchors', key: a.anchorId }]
    default:
      return []
  }
}

/** The SQL expression of each derived table's row-group key (`rowsTouched`), for deleting a group. */
export const GROUP_KEY: Record<DerivedTable, string> = {
  assets: 'token_id',
  offers: 'token_id',
  licences: 'licence_id',
  receipts: 'job_id',
  enclaves: 'signer',
  measurements: 'measurement',
  market_settings: "'chain'",
  payments: "block_number || ':' || log_index",
  anchors: 'anchor_id',
}

/** The D1 statements that apply `e` to the derived tables (none for events that change no derived row). */
export function deriveStatements(db: D1Database, e: LedgerEvent): D1PreparedStatement[] {
  return derive(db, e).map((d) => d.statement)
}

/** `deriveStatements` limited to the tables `only` accepts (a scoped rollback re-applies some groups). */
export function deriveStatementsFor(
  db: D1Database,
  e: LedgerEvent,
  only: (table: DerivedTable) => boolean,
): D1PreparedStatement[] {
  return derive(db, e)
    .filter((d) => only(d.table))
    .map((d) => d.statement)
}

const TARGET = /^\s*(?:INSERT(?:\s+OR\s+\w+)?\s+INTO|UPDATE)\s+(\w+)/i

function derive(db: D1Database, e: LedgerEvent): Array<{ table: DerivedTable; statement: D1PreparedStatement }> {
  const a = JSON.parse(e.args) as Args
  const c = e.chainId
  const q = (sql: string, ...binds: unknown[]) => ({
    table: TARGET.exec(sql)![1] as DerivedTable,
    statement: db.prepare(sql).bind(...binds),
  })
  const asset = (set: string, ...binds: unknown[]) =>
    q(`UPDATE assets SET ${set} WHERE chain_id = ? AND token_id = ?`, ...binds, c, a.tokenId)

  switch (`${e.contract}.${e.name}`) {
    case 'DataAssetNFT.Transfer':
      // Transfer(0 → owner) precedes AssetMinted in the same transaction: create the row here.
      return [
        q(
          `INSERT INTO assets (chain_id, token_id, contract, owner) VALUES (?, ?, ?, ?)
           ON CONFLICT (chain_id, token_id) DO UPDATE SET owner = excluded.owner`,
          c,
          a.tokenId,
          e.address,
          a.to,
        ),
        // Every offer of the token so far was set before this change of hands: none sells again, even if
        // the token comes back (DataMarket compares the offer's tenure with the asset's transfer count).
        ...(a.from === ZERO
          ? []
          : [q('UPDATE offers SET superseded = 1 WHERE chain_id = ? AND token_id = ?', c, a.tokenId)]),
      ]
    case 'DataAssetNFT.AssetMinted':
      return [
        q(
          `INSERT INTO assets (chain_id, token_id, contract, owner, content_hash, metadata_digest, minted_block, minted_time, minted_tx, relayer)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (chain_id, token_id) DO UPDATE SET content_hash = excluded.content_hash,
             metadata_digest = excluded.metadata_digest, minted_block = excluded.minted_block,
             minted_time = excluded.minted_time, minted_tx = excluded.minted_tx, relayer = excluded.relayer`,
          c,
          a.tokenId,
          e.address,
          a.owner,
          a.contentHash,
          a.metadataDigest,
          e.blockNumber,
          e.blockTime,
          e.txHash,
          a.relayer,
        ),
      ]
    case 'DataAssetNFT.AssetAmended':
      return [asset('metadata_digest = ?, amendment_count = ?', a.metadataDigest, Number(a.index))]
    case 'DataAssetNFT.AssetRevoked':
      return [asset('revoked = 1')]
    case 'DataAssetNFT.AssetFrozen':
      return [asset('frozen = 1, freeze_reason = ?', a.reasonCode)]
    case 'DataAssetNFT.AssetUnfrozen':
      return [asset('frozen = 0, freeze_reason = NULL')]
    case 'DataAssetNFT.AssetDelegateSet':
      return [asset('delegate = ?', a.delegate === ZERO ? null : a.delegate)]
    case 'DataAssetNFT.AssetRoyaltySet':
      return [asset('royalty_receiver = ?, royalty_bps = ?', a.receiver, Number(a.feeBps))]

    case 'DataMarket.OfferSet':
      return [
        q(
          `INSERT OR REPLACE INTO offers (chain_id, token_id, offer_id, owner, set_by, price, currency, duration, max_jobs,
             epsilon_budget_milli, purposes, withdrawn, superseded, set_tx, set_block, withdrawn_tx)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?, ?, NULL)`,
          c,
          a.tokenId,
          a.offerId,
          a.owner,
          a.by,
          a.price,
          a.currency,
          Number(a.duration),
          Number(a.maxJobs),
          Number(a.epsilonBudgetMilli),
          Number(a.purposes),
          e.txHash,
          e.blockNumber,
        ),
      ]
    case 'DataMarket.OfferWithdrawn':
      return [
        q(
          'UPDATE offers SET withdrawn = 1, withdrawn_tx = ? WHERE chain_id = ? AND token_id = ? AND offer_id = ?',
          e.txHash,
          c,
          a.tokenId,
          a.offerId,
        ),
      ]
    case 'DataMarket.LicencePurchased': {
      const net = BigInt(a.price) - BigInt(a.fee)
      const out = [
        // Quota and ε start at the offer's terms (offers are immutable, and the OfferSet came first).
        q(
          `INSERT OR REPLACE INTO licences (chain_id, licence_id, token_id, offer_id, buyer, owner, currency, price, fee,
             expires_at, jobs_left, epsilon_left_milli, purchased_tx, purchased_block, purchased_time)
           SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
             (SELECT max_jobs FROM offers WHERE chain_id = ? AND token_id = ? AND offer_id = ?),
             (SELECT epsilon_budget_milli FROM offers WHERE chain_id = ? AND token_id = ? AND offer_id = ?),
             ?, ?, ?`,
          c,
          a.licenceId,
          a.tokenId,
          a.offerId,
          a.buyer,
          a.owner,
          a.currency,
          a.price,
          a.fee,
          Number(a.expiresAt),
          c,
          a.tokenId,
          a.offerId,
          c,
          a.tokenId,
          a.offerId,
          e.txHash,
          e.blockNumber,
          e.blockTime,
        ),
      ]
      // As DataMarket.buyLicence: the fee goes to the treasury of the moment, the rest to the owner; zero
      // amounts credit nobody.
      if (a.fee !== '0') {
        out.push(
          q(
            `INSERT OR REPLACE INTO payments (chain_id, block_number, log_index, account, kind, currency, amount, licence_id, token_id, tx_hash)
             SELECT ?, ?, ?, treasury, 'fee', ?, ?, ?, ?, ? FROM market_settings WHERE chain_id = ?`,
            c,
            e.blockNumber,
            e.logIndex,
            a.currency,
            a.fee,
            a.licenceId,
            a.tokenId,
            e.txHash,
            c,
          ),
        )
      }
      if (net !== 0n) {
        out.push(
          q(
            `INSERT OR REPLACE INTO payments (chain_id, block_number, log_index, account, kind, currency, amount, licence_id, token_id, tx_hash)
             VALUES (?, ?, ?, ?, 'sale', ?, ?, ?, ?, ?)`,
            c,
            e.blockNumber,
            e.logIndex,
            a.owner,
            a.currency,
            net.toString(),
            a.licenceId,
            a.tokenId,
            e.txHash,
          ),
        )
      }
      return out
    }
    case 'DataMarket.LicenceConsumed':
      return [
        q(
          'UPDATE licences SET jobs_left = ?, epsilon_left_milli = ? WHERE chain_id = ? AND licence_id = ?',
          Number(a.jobsLeft),
          Number(a.epsilonLeftMilli),
          c,
          a.licenceId,
        ),
      ]
    case 'DataMarket.PaymentWithdrawn':
      return [
        q(
          `INSERT OR REPLACE INTO payments (chain_id, block_number, log_index, account, kind, currency, amount, licence_id, token_id, tx_hash)
           VALUES (?, ?, ?, ?, 'withdrawal', ?, ?, NULL, NULL, ?)`,
          c,
          e.blockNumber,
          e.logIndex,
          a.account,
          a.currency,
          (-BigInt(a.amount)).toString(),
          e.txHash,
        ),
      ]
    case 'DataMarket.TreasurySet':
      return [
        q(
          `INSERT INTO market_settings (chain_id, treasury) VALUES (?, ?)
           ON CONFLICT (chain_id) DO UPDATE SET treasury = excluded.treasury`,
          c,
          a.newTreasury,
        ),
      ]
    case 'DataMarket.PlatformFeeSet':
      return [
        q(
          `INSERT INTO market_settings (chain_id, fee_bps) VALUES (?, ?)
           ON CONFLICT (chain_id) DO UPDATE SET fee_bps = excluded.fee_bps`,
          c,
          Number(a.newFeeBps),
        ),
      ]

    case 'EnclaveRegistry.MeasurementApproved':
    case 'EnclaveRegistry.MeasurementRetired':
      return [
        q(
          'INSERT OR REPLACE INTO measurements (chain_id, measurement, approved, changed_by, changed_block) VALUES (?, ?, ?, ?, ?)',
          c,
          a.measurement,
          e.name === 'MeasurementApproved' ? 1 : 0,
          a.supervisor,
          e.blockNumber,
        ),
      ]
    case 'EnclaveRegistry.EnclaveRegistered':
      return [
        q(
          'INSERT OR REPLACE INTO enclaves (chain_id, signer, measurement, cluster_public_key, registered_block, active) VALUES (?, ?, ?, ?, ?, 1)',
          c,
          a.signer,
          a.measurement,
          a.clusterPublicKey,
          e.blockNumber,
        ),
      ]
    case 'EnclaveRegistry.EnclaveDeregistered':
      return [q('UPDATE enclaves SET active = 0 WHERE chain_id = ? AND signer = ?', c, a.signer)]

    case 'ComputeLedger.JobRecorded': {
      const detail = e.detail ? (JSON.parse(e.detail) as { enclaveSignature?: string }) : {}
      return [
        q(
          `INSERT OR REPLACE INTO receipts (chain_id, job_id, licence_id, token_id, enclave, content_hash, query_hash,
             result_hash, epsilon_spent_milli, measurement, signature, tx_hash, block_number, block_time)
           VALUES (?, ?, ?, (SELECT token_id FROM licences WHERE chain_id = ? AND licence_id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          c,
          a.jobId,
          a.licenceId,
          c,
          a.licenceId,
          a.enclave,
          a.contentHash,
          a.queryHash,
          a.resultHash,
          Number(a.epsilonSpentMilli),
          a.measurement,
          detail.enclaveSignature ?? null,
          e.txHash,
          e.blockNumber,
          e.blockTime,
        ),
      ]
    }
    // A job across assets (R67) emits one JobPartRecorded per part, then GroupJobRecorded, in one
    // transaction. The parts alone lack the enclave and hashes, so GroupJobRecorded writes every part's
    // receipt row from the part events of its own transaction: they are in `events` already (each range
    // inserts its events before deriving, a replay or rollback re-applies stored events), and reading
    // the ledger itself keeps incremental == replay (R46). A part therefore writes no row on its own.
    case 'ComputeLedger.JobPartRecorded':
      return []
    case 'ComputeLedger.GroupJobRecorded': {
      const detail = e.detail ? (JSON.parse(e.detail) as { enclaveSignature?: string }) : {}
      return [
        q(
          `INSERT OR REPLACE INTO receipts (chain_id, job_id, part, part_count, licence_id, token_id, enclave, content_hash,
             query_hash, result_hash, epsilon_spent_milli, measurement, signature, tx_hash, block_number, block_time)
           SELECT ?1, ?2, p.args ->> '$.part', ?3, p.licence_id,
             (SELECT token_id FROM licences l WHERE l.chain_id = ?1 AND l.licence_id = p.licence_id),
             ?4, p.args ->> '$.contentHash', ?5, ?6, p.args ->> '$.epsilonSpentMilli', ?7, ?8, ?9, ?10, ?11
           FROM events p
           WHERE p.chain_id = ?1 AND p.tx_hash = ?9 AND p.contract = 'ComputeLedger' AND p.name = 'JobPartRecorded'
             AND p.args ->> '$.jobId' = ?2`,
          c,
          a.jobId,
          Number(a.partCount),
          a.enclave,
          a.queryHash,
          a.resultHash,
          a.measurement,
          detail.enclaveSignature ?? null,
          e.txHash,
          e.blockNumber,
          e.blockTime,
        ),
      ]
    }

    case 'LedgerAnchor.RootAnchored':
      return [
        q(
          'INSERT OR REPLACE INTO anchors (chain_id, anchor_id, merkle_root, leaf_count, to_block, anchored_by, tx_hash, block_number) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
          c,
          a.anchorId,
          a.merkleRoot,
          Number(a.leafCount),
          Number(a.toBlock),
          a.by,
          e.txHash,
          e.blockNumber,
        ),
      ]
    default:
      return []
  }
}
