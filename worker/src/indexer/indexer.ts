// Owns the chain → D1 mirror: reads every log of the address book's contracts from the last indexed
// block, after `INDEXER_CONFIRMATIONS`, detects reorganisations by parent hash and rolls back, and
// writes each range in one D1 batch guarded by a compare-and-swap of the cursor (DESIGN.md §3 "Audit";
// R45–R47).
import { rpcBatch } from '../services/chain'
import { addressBook, type AddressBook } from '../services/config'
import { contractInterface, contractsByAddress, decodeLog, type RpcLog } from './decode'
import { DERIVED_TABLES, deriveStatements, subjectOf } from './derive'
import { planRollback, rollbackStatements } from './rollback'
import type { LedgerEvent } from './ledger'
import { refreshSearch } from './metadata'
import { indexerSettings, type IndexerBindings } from './settings'

/** What one call of `indexNow` did. */
export interface IndexRun {
  chainId: number
  /** The last block whose events are in D1. */
  indexedBlock: number
  /** The chain's head when the run began. */
  head: number
  /** Events written in this run. */
  events: number
  ranges: number
  /** Reorganisations rolled back in this run. */
  reorgs: number
  /** True when the index has caught up with head − confirmations. */
  caughtUp: boolean
  /** Another indexer held the cursor; this run stopped without writing. */
  contended: boolean
  /** Assets whose rows changed (for metadata and search). */
  touchedTokens: string[]
}

interface RpcBlock {
  number: string
  hash: string
  parentHash: string
  timestamp: string
}

const hex = (n: number) => `0x${n.toString(16)}`
const GUARD_FAILED = /NOT NULL constraint failed: indexer_guard/

/** The first block the index covers: the deployment's first block (earlier blocks have no Stillflow logs). */
export const startBlock = (book: AddressBook) => Math.max(0, book.deployedAtBlock)

/**
 * A cursor below −1 means "a replay is rebuilding the derived tables up to −cursor − 2": indexers skip
 * the chain until it finishes, so no range is applied in the middle of a replay.
 */
const replayingCursor = (block: number) => -2 - block

/** Reads (creating when absent) the chain's cursor row. A new address book resets the index. */
async function cursorOf(db: D1Database, book: AddressBook): Promise<number> {
  const json = JSON.stringify(book)
  const row = await db
    .prepare('SELECT indexed_block AS block, address_book AS book FROM chains WHERE chain_id = ?')
    .bind(book.chainId)
    .first<{ block: number; book: string }>()
  if (row && sameBook(row.book, book)) return row.block
  if (row) {
    // Another deployment on the same chain id (a restarted dev chain): the old index describes contracts
    // that are not configured any more.
    await clearChain(db, book.chainId, [
      db
        .prepare('UPDATE chains SET address_book = ?, indexed_block = ?, updated_at = ? WHERE chain_id = ?')
        .bind(json, startBlock(book) - 1, Date.now(), book.chainId),
    ])
    return startBlock(book) - 1
  }
  await db
    .prepare('INSERT OR IGNORE INTO chains (chain_id, address_book, indexed_block, updated_at) VALUES (?, ?, ?, ?)')
    .bind(book.chainId, json, startBlock(book) - 1, Date.now())
    .run()
  return startBlock(book) - 1
}

function sameBook(stored: string, book: AddressBook): boolean {
  try {
    const s = JSON.parse(stored) as AddressBook
    return (
      s.chainId === book.chainId &&
      s.deployedAtBlock === book.deployedAtBlock &&
      JSON.stringify(Object.entries(s.contracts).sort()) === JSON.stringify(Object.entries(book.contracts).sort())
    )
  } catch {
    return false
  }
}

/** Deletes every row of the chain's mirror (events, block hashes, derived tables, search) plus `extra`. */
async function clearChain(db: D1Database, chainId: number, extra: D1PreparedStatement[]): Promise<void> {
  await db.batch([
    ...['events', 'indexed_blocks', ...DERIVED_TABLES, 'asset_search'].map((t) =>
      db.prepare(`DELETE FROM ${t} WHERE chain_id = ?`).bind(chainId),
    ),
    ...extra,
  ])
}

/**
 * Indexes from the cursor towards head − confirmations, at most `maxRanges` ranges (each one D1 batch).
 * Safe to call concurrently (cron and the post-mint nudge): the loser of a cursor race stops quietly.
 * @example
 * ctx.waitUntil(indexNow(env)) // after the relayer's mint transaction
 */
export async function indexNow(env: IndexerBindings, opts: { maxRanges?: number } = {}): Promise<IndexRun> {
  const db = env.DB
  const book = addressBook(env)
  const settings = indexerSettings(env)
  const names = contractsByAddress(book.contracts)
  const addresses = [...names.keys()]
  const [chainIdHex, headHex] = (await rpcBatch(env, [
    ['eth_chainId', []],
    ['eth_blockNumber', []],
  ])) as string[]
  if (Number(chainIdHex) !== book.chainId) {
    throw new Error(`chain reports chainId ${Number(chainIdHex)} but the address book is for ${book.chainId}`)
  }
  const head = Number(headHex)
  const target = head - settings.confirmations
  const run: IndexRun = {
    chainId: book.chainId,
    indexedBlock: -1,
    head,
    events: 0,
    ranges: 0,
    reorgs: 0,
    caughtUp: false,
    contended: false,
    touchedTokens: [],
  }
  const touched = new Set<string>()
  const maxRanges = opts.maxRanges ?? 50

  let cursor = await cursorOf(db, book)
  let cursorHash: string | null | undefined
  /** Blocks asked for per range: `rangeBlocks`, narrowed while ranges hold more than `maxLogs` logs. */
  let span = settings.rangeBlocks
  if (cursor < -1) cursor = await resumeStaleReplay(db, book.chainId, cursor)
  while (run.ranges < maxRanges) {
    if (cursor < -1) {
      run.contended = true
      break
    }
    if (cursor >= target) {
      run.caughtUp = true
      break
    }
    const from = cursor + 1
    let to = Math.min(target, cursor + span)
    const calls: Array<[string, unknown[]]> = [
      ['eth_getLogs', [{ fromBlock: hex(from), toBlock: hex(to), address: addresses }]],
      ['eth_getBlockByNumber', [hex(to), false]],
    ]
    // The hash of the block the cursor is at: read once, then known from the range just written.
    if (cursorHash === undefined) {
      cursorHash =
        (
          await db
            .prepare('SELECT hash FROM indexed_blocks WHERE chain_id = ? AND number = ?')
            .bind(book.chainId, cursor)
            .first<{ hash: string }>()
        )?.hash ?? null
    }
    const stored = cursorHash
    if (stored) calls.push(['eth_getBlockByNumber', [hex(cursor), false]])
    const [rawLogs, toBlock, parent] = (await rpcBatch(env, calls)) as [RpcLog[], RpcBlock | null, RpcBlock | null]

    if (stored && parent?.hash.toLowerCase() !== stored) {
      // The block we stopped at is no longer on the canonical chain: a reorganisation.
      const rolledBack = await rollBack(env, book, cursor, settings.rollbackBatch)
      if (rolledBack === null) {
        run.contended = true
        break
      }
      run.reorgs++
      for (const t of rolledBack.tokens) touched.add(t)
      cursor = rolledBack.cursor
      cursorHash = undefined
      continue
    }
    if (!toBlock) throw new Error(`chain has no block ${to} although its head is ${head}`)
    let toHash = toBlock.hash.toLowerCase()

    let logs = rawLogs.filter((l) => !l.removed)
    if (logs.length > settings.maxLogs) {
      // Cut at a block boundary so a block is never half indexed.
      const cut = Number(logs[settings.maxLogs - 1].blockNumber)
      logs = logs.filter((l) => Number(l.blockNumber) <= cut)
      if (cut < to) {
        to = cut
        toHash = logs[logs.length - 1].blockHash.toLowerCase()
      }
      // Ask for as many blocks as fitted next time: re-fetching the whole span after every cut would
      // transfer O(n²/maxLogs) logs over a dense history.
      span = Math.max(1, cut - from + 1)
    } else span = Math.min(settings.rangeBlocks, span * 2)

    const events = await toEvents(env, book, names, logs, toBlock)
    const written = await applyRange(db, book.chainId, cursor, to, toHash, events)
    if (!written) {
      run.contended = true
      break
    }
    for (const e of events) {
      const { tokenId } = subjectOf(e)
      if (tokenId && e.contract === 'DataAssetNFT') touched.add(tokenId)
    }
    run.events += events.length
    run.ranges++
    cursor = to
    cursorHash = toHash
  }
  run.indexedBlock = cursor
  run.touchedTokens = [...touched]
  if (touched.size) await refreshSearch(db, book.chainId, run.touchedTokens)
  return run
}

/** Decodes logs and adds block times and transaction evidence (the enclave's receipt signature). */
async function toEvents(
  env: IndexerBindings,
  book: AddressBook,
  names: Map<string, string>,
  logs: RpcLog[],
  toBlock: RpcBlock,
): Promise<LedgerEvent[]> {
  const times = new Map<string, number>([[toBlock.hash.toLowerCase(), Number(toBlock.timestamp)]])
  for (const l of logs) if (l.blockTimestamp) times.set(l.blockHash.toLowerCase(), Number(l.blockTimestamp))
  const missing = [...new Set(logs.map((l) => l.blockHash.toLowerCase()))].filter((h) => !times.has(h))
  for (let i = 0; i < missing.length; i += 200) {
    const chunk = missing.slice(i, i + 200)
    const blocks = (await rpcBatch(
      env,
      chunk.map((h) => ['eth_getBlockByHash', [h, false]] as [string, unknown[]]),
    )) as Array<RpcBlock | null>
    blocks.forEach((b, j) => {
      if (!b) throw new Error(`block ${chunk[j]} vanished while indexing (reorganisation); retrying next run`)
      times.set(chunk[j], Number(b.timestamp))
    })
  }
  const events = logs.map((l) => decodeLog(book.chainId, names, l, times.get(l.blockHash.toLowerCase())!))

  // JobRecorded (GroupJobRecorded) does not carry the enclave's signature; the recordReceipt
  // (recordGroupReceipt) calldata does. Keep it as evidence so anyone can re-verify the receipt without
  // trusting the contract's check (R24, R67).
  const jobs = events.filter(
    (e) => e.contract === 'ComputeLedger' && (e.name === 'JobRecorded' || e.name === 'GroupJobRecorded'),
  )
  if (jobs.length) {
    const ledger = contractInterface('ComputeLedger')
    const txHashes = [...new Set(jobs.map((e) => e.txHash))]
    const txs = (await rpcBatch(
      env,
      txHashes.map((h) => ['eth_getTransactionByHash', [h]] as [string, unknown[]]),
    )) as Array<{ to: string | null; input: string } | null>
    const signatures = new Map<string, Map<string, string>>()
    txHashes.forEach((h, i) => {
      const tx = txs[i]
      if (!tx || tx.to?.toLowerCase() !== book.contracts.ComputeLedger?.toLowerCase()) return
      const call = ledger.parseTransaction({ data: tx.input })
      if (call?.name !== 'recordReceipt' && call?.name !== 'recordGroupReceipt') return
      signatures.set(h, new Map([[String(call.args[0].jobId).toLowerCase(), String(call.args[1]).toLowerCase()]]))
    })
    for (const e of jobs) {
      const jobId = (JSON.parse(e.args) as { jobId: string }).jobId
      const sig = signatures.get(e.txHash)?.get(jobId)
      if (sig) e.detail = JSON.stringify({ enclaveSignature: sig })
    }
  }
  return events
}

/**
 * The one D1 statement that writes a range's event rows: the rows travel as one JSON array parameter
 * (D1 allows 100 bound parameters a statement, 7 events' worth) and `json_each` expands them in SQLite.
 */
export function insertEvents(db: D1Database, events: LedgerEvent[]): D1PreparedStatement {
  const rows = events.map((e) => {
    const { tokenId, licenceId } = subjectOf(e)
    return [
      e.chainId,
      e.blockNumber,
      e.blockHash,
      e.blockTime,
      e.txHash,
      e.logIndex,
      e.address,
      e.contract,
      e.name,
      e.args,
      e.detail,
      tokenId,
      licenceId,
    ]
  })
  const cols = Array.from({ length: 13 }, (_, k) => `value ->> ${k}`).join(', ')
  return db
    .prepare(
      `INSERT OR IGNORE INTO events (chain_id, block_number, block_hash, block_time, tx_hash, log_index, address, contract, name, args, detail, token_id, licence_id)
       SELECT ${cols} FROM json_each(?)`,
    )
    .bind(JSON.stringify(rows))
}

/** Moves the cursor from `expected` to `next`, or aborts the batch it opens when another run moved it. */
function casCursor(db: D1Database, chainId: number, expected: number, next: number): D1PreparedStatement[] {
  return [
    db
      .prepare('UPDATE chains SET indexed_block = ?, updated_at = ? WHERE chain_id = ? AND indexed_block = ?')
      .bind(next, Date.now(), chainId, expected),
    db.prepare('INSERT INTO indexer_guard (chain_id, ok) SELECT ?, NULL WHERE changes() = 0').bind(chainId),
  ]
}

async function batchUnlessRaced(db: D1Database, statements: D1PreparedStatement[]): Promise<boolean> {
  try {
    await db.batch(statements)
    return true
  } catch (err) {
    if (GUARD_FAILED.test(String((err as Error)?.message ?? err))) return false
    throw err
  }
}

/** Writes one range: cursor, block hashes, events and their derived rows, all or nothing. */
async function applyRange(
  db: D1Database,
  chainId: number,
  cursor: number,
  to: number,
  toHash: string,
  events: LedgerEvent[],
): Promise<boolean> {
  const blocks = new Map<number, string>([[to, toHash]])
  for (const e of events) blocks.set(e.blockNumber, e.blockHash)
  const statements = [
    ...casCursor(db, chainId, cursor, to),
    db
      .prepare(
        `INSERT OR REPLACE INTO indexed_blocks (chain_id, number, hash)
         SELECT ?, value ->> 0, value ->> 1 FROM json_each(?)`,
      )
      .bind(chainId, JSON.stringify([...blocks])),
  ]
  if (events.length) statements.push(insertEvents(db, events))
  for (const e of events) statements.push(...deriveStatements(db, e))
  return batchUnlessRaced(db, statements)
}

/**
 * Finds the newest indexed block still on the canonical chain, deletes the events above it and rebuilds
 * only the derived rows they wrote (rollback.ts). Returns null when another run moved the cursor first.
 */
async function rollBack(
  env: IndexerBindings,
  book: AddressBook,
  cursor: number,
  maxBatch: number,
): Promise<{ cursor: number; tokens: string[] } | null> {
  const db = env.DB
  let fork = startBlock(book) - 1
  let below = cursor
  search: for (;;) {
    const rows = (
      await db
        .prepare(
          'SELECT number, hash FROM indexed_blocks WHERE chain_id = ? AND number <= ? ORDER BY number DESC LIMIT 32',
        )
        .bind(book.chainId, below)
        .all<{ number: number; hash: string }>()
    ).results
    if (!rows.length) break
    const onChain = (await rpcBatch(
      env,
      rows.map((r) => ['eth_getBlockByNumber', [hex(r.number), false]] as [string, unknown[]]),
    )) as Array<RpcBlock | null>
    for (let i = 0; i < rows.length; i++) {
      if (onChain[i]?.hash.toLowerCase() === rows[i].hash) {
        fork = rows[i].number
        break search
      }
    }
    below = rows[rows.length - 1].number - 1
  }
  const plan = await planRollback(db, book.chainId, fork)
  const undo = [
    db.prepare('DELETE FROM events WHERE chain_id = ? AND block_number > ?').bind(book.chainId, fork),
    db.prepare('DELETE FROM indexed_blocks WHERE chain_id = ? AND number > ?').bind(book.chainId, fork),
    ...rollbackStatements(db, book.chainId, plan),
  ]
  if (undo.length <= maxBatch) {
    // The usual case: the whole undo and the cursor move in one atomic batch.
    if (!(await batchUnlessRaced(db, [...casCursor(db, book.chainId, cursor, fork), ...undo]))) return null
    return { cursor: fork, tokens: plan.tokens }
  }
  // Too much for one batch: the replaying cursor keeps other indexers off while the chunks land; if this
  // run dies midway, resumeStaleReplay rebuilds the derived tables in full.
  const replaying = replayingCursor(fork)
  const first = undo.slice(0, maxBatch)
  if (!(await batchUnlessRaced(db, [...casCursor(db, book.chainId, cursor, replaying), ...first]))) return null
  for (let i = maxBatch; i < undo.length; i += maxBatch) await db.batch(undo.slice(i, i + maxBatch))
  if (!(await batchUnlessRaced(db, casCursor(db, book.chainId, replaying, fork)))) return null
  return { cursor: fork, tokens: plan.tokens }
}

/** A replay whose cursor has not moved for this long is taken to have died, and is run again. */
const STALE_REPLAY_MS = 10 * 60_000

async function resumeStaleReplay(db: D1Database, chainId: number, cursor: number): Promise<number> {
  const row = await db
    .prepare('SELECT updated_at AS at FROM chains WHERE chain_id = ?')
    .bind(chainId)
    .first<{ at: number }>()
  if (!row || Date.now() - row.at < STALE_REPLAY_MS) return cursor
  if (!(await batchUnlessRaced(db, casCursor(db, chainId, cursor, cursor)))) return cursor
  await replayDerived(db, chainId)
  const fork = -cursor - 2
  return (await batchUnlessRaced(db, casCursor(db, chainId, cursor, fork))) ? fork : cursor
}

/** Reads the chain's events in ledger order, `pageSize` at a time. */
export async function* eventsInOrder(
  db: D1Database,
  chainId: number,
  opts: { toBlock?: number; pageSize?: number } = {},
): AsyncGenerator<LedgerEvent> {
  const pageSize = opts.pageSize ?? 500
  const toBlock = opts.toBlock ?? Number.MAX_SAFE_INTEGER
  let after = { block: -1, log: -1 }
  for (;;) {
    const page = (
      await db
        .prepare(
          `SELECT chain_id AS chainId, block_number AS blockNumber, block_hash AS blockHash, block_time AS blockTime,
             tx_hash AS txHash, log_index AS logIndex, address, contract, name, args, detail
           FROM events WHERE chain_id = ? AND block_number <= ? AND (block_number > ? OR (block_number = ? AND log_index > ?))
           ORDER BY block_number, log_index LIMIT ?`,
        )
        .bind(chainId, toBlock, after.block, after.block, after.log, pageSize)
        .all<LedgerEvent>()
    ).results
    for (const e of page) yield e
    if (page.length < pageSize) return
    const last = page[page.length - 1]
    after = { block: last.blockNumber, log: last.logIndex }
  }
}

/** Clears the derived tables of a chain and re-applies every stored event in order (R46). */
export async function replayDerived(db: D1Database, chainId: number): Promise<void> {
  await db.batch(DERIVED_TABLES.map((t) => db.prepare(`DELETE FROM ${t} WHERE chain_id = ?`).bind(chainId)))
  let batch: D1PreparedStatement[] = []
  for await (const e of eventsInOrder(db, chainId)) {
    batch.push(...deriveStatements(db, e))
    if (batch.length >= 500) {
      await db.batch(batch)
      batch = []
    }
  }
  if (batch.length) await db.batch(batch)
  const tokens = (
    await db.prepare('SELECT token_id FROM assets WHERE chain_id = ?').bind(chainId).all<{ token_id: string }>()
  ).results.map((r) => r.token_id)
  await db.prepare('DELETE FROM asset_search WHERE chain_id = ?').bind(chainId).run()
  await refreshSearch(db, chainId, tokens)
}

/**
 * Drops the chain's whole mirror and indexes it again from the deployment block (R46): what
 * `npm run reindex` and `POST /api/audit/reindex` run. Asset metadata (content-addressed) is kept.
 */
export async function reindex(env: IndexerBindings, opts: { maxRanges?: number } = {}): Promise<IndexRun> {
  const book = addressBook(env)
  await cursorOf(env.DB, book)
  await clearChain(env.DB, book.chainId, [
    env.DB.prepare('UPDATE chains SET indexed_block = ?, updated_at = ? WHERE chain_id = ?').bind(
      startBlock(book) - 1,
      Date.now(),
      book.chainId,
    ),
  ])
  return indexNow(env, opts)
}
