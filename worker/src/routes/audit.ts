// /api/audit: the ledger level of self-proof (R24, R47) — the event export with its Merkle root, single
// events by (tx hash, log index), the anchored roots, the enclaves and measurements — and the operator's
// reindex (R46).
import { Hono } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { ledgerStream, ledgerSummary } from '../indexer/export'
import { reindex } from '../indexer/indexer'
import { ledgerLine, type LedgerEvent } from '../indexer/ledger'
import { hashParam, intQuery } from '../indexer/params'
import { indexedChain, notFound } from '../indexer/read'
import type { IndexerBindings } from '../indexer/settings'

/** `toBlock` from the query, defaulting to the indexed block; a block not yet indexed is a 409. */
async function ledgerRange(env: IndexerBindings, raw: string | undefined) {
  const { chainId, indexedBlock } = await indexedChain(env)
  const toBlock = intQuery(raw, 'toBlock') ?? indexedBlock
  if (toBlock > indexedBlock) {
    throw new ApiError(409, 'not_indexed_yet', `block ${toBlock} is not indexed yet (indexed up to ${indexedBlock})`)
  }
  return { chainId, toBlock }
}

/**
 * Reindexing is an operator's maintenance action on a derivable cache: it changes no right and moves no
 * value, so it is authorised by a deployment secret (`ADMIN_TOKEN`) rather than the governance key,
 * which is a multisig/timelock in production. Without the secret the endpoint is off.
 */
const adminOnly = createMiddleware<AppEnv>(async (c, next) => {
  const expected = (c.env as IndexerBindings).ADMIN_TOKEN
  if (!expected) throw new ApiError(403, 'admin_disabled', 'ADMIN_TOKEN is not configured on this deployment')
  const given = /^Bearer (.+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? ''
  const utf8 = new TextEncoder()
  // Compare SHA-256 digests in constant time: equal lengths, and no early exit that leaks a prefix.
  const [a, b] = await Promise.all(
    [given, expected].map(async (s) => new Uint8Array(await crypto.subtle.digest('SHA-256', utf8.encode(s)))),
  )
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i]
  if (!given || diff !== 0) {
    throw new ApiError(401, 'unauthorized', 'a valid `Authorization: Bearer <ADMIN_TOKEN>` header is required')
  }
  await next()
})

export const audit = new Hono<AppEnv>()
  .get('/export', async (c) => {
    const env = c.env as IndexerBindings
    const { chainId, toBlock } = await ledgerRange(env, c.req.query('toBlock'))
    return new Response(ledgerStream(env.DB, chainId, toBlock), {
      headers: {
        'content-type': 'application/x-ndjson; charset=utf-8',
        'cache-control': 'no-store',
        'x-ledger-chain-id': String(chainId),
        'x-ledger-to-block': String(toBlock),
      },
    })
  })
  .get('/root', async (c) => {
    const env = c.env as IndexerBindings
    const { chainId, toBlock } = await ledgerRange(env, c.req.query('toBlock'))
    const summary = await ledgerSummary(env.DB, chainId, toBlock)
    const { results } = await env.DB.prepare(
      'SELECT anchor_id, merkle_root, leaf_count, to_block, tx_hash, block_number FROM anchors WHERE chain_id = ? ORDER BY block_number DESC LIMIT 10',
    )
      .bind(chainId)
      .all<Record<string, string | number>>()
    return c.json({
      ...summary,
      anchors: results.map((r) => ({
        anchorId: r.anchor_id,
        merkleRoot: r.merkle_root,
        leafCount: r.leaf_count,
        toBlock: r.to_block,
        txHash: r.tx_hash,
        blockNumber: r.block_number,
      })),
    })
  })
  // The enclave side of the trust model (R21, R53) as the index holds it: every measurement a supervisor
  // approved or retired, and every enclave key registered, with whether it is still registered and whether
  // its build is approved now. An auditor compares it with EnclaveRegistry's own view.
  .get('/enclaves', async (c) => {
    const env = c.env as IndexerBindings
    const { chainId, indexedBlock } = await indexedChain(env)
    const [measurements, enclaves] = await env.DB.batch([
      env.DB.prepare(
        'SELECT measurement, approved, changed_by, changed_block FROM measurements WHERE chain_id = ? ORDER BY changed_block DESC, measurement',
      ).bind(chainId),
      env.DB.prepare(
        `SELECT e.signer, e.measurement, e.cluster_public_key, e.registered_block, e.active, coalesce(m.approved, 0) AS approved
         FROM enclaves e LEFT JOIN measurements m ON m.chain_id = e.chain_id AND m.measurement = e.measurement
         WHERE e.chain_id = ? ORDER BY e.registered_block DESC, e.signer`,
      ).bind(chainId),
    ])
    c.header('cache-control', 'no-store')
    return c.json({
      chainId,
      asOfBlock: indexedBlock,
      measurements: (measurements.results as Array<Record<string, string | number>>).map((m) => ({
        measurement: String(m.measurement),
        approved: Number(m.approved) === 1,
        // The supervisor who made the last change; at deployment, the account that deployed the registry.
        changedBy: String(m.changed_by),
        changedBlock: Number(m.changed_block),
      })),
      enclaves: (enclaves.results as Array<Record<string, string | number>>).map((e) => ({
        signer: String(e.signer),
        measurement: String(e.measurement),
        clusterPublicKey: String(e.cluster_public_key),
        registeredBlock: Number(e.registered_block),
        registered: Number(e.active) === 1,
        measurementApproved: Number(e.approved) === 1,
      })),
    })
  })
  .get('/events/:txHash/:logIndex', async (c) => {
    const env = c.env as IndexerBindings
    const txHash = hashParam(c.req.param('txHash'), 'txHash')
    const logIndex = intQuery(c.req.param('logIndex'), 'logIndex')!
    const { chainId } = await indexedChain(env)
    const row = await env.DB.prepare(
      `SELECT chain_id AS chainId, block_number AS blockNumber, block_hash AS blockHash, block_time AS blockTime,
         tx_hash AS txHash, log_index AS logIndex, address, contract, name, args, detail
       FROM events WHERE chain_id = ? AND tx_hash = ? AND log_index = ?`,
    )
      .bind(chainId, txHash, logIndex)
      .first<LedgerEvent>()
    if (!row) notFound('event_not_found', `No indexed event at log ${logIndex} of ${txHash}`)
    // One line is one JSON object: served as JSON, so a browser following a transaction link shows it
    // rather than downloading a file (the export, many lines, stays NDJSON).
    return c.body(ledgerLine(row) + '\n', 200, { 'content-type': 'application/json; charset=utf-8' })
  })
  .post('/reindex', adminOnly, async (c) => {
    const run = await reindex(c.env as IndexerBindings)
    return c.json({ reset: true, ...run }, 202)
  })
