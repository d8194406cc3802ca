// GET /api/assets/:id/history (R4, R8) and GET /api/assets/:id/graph (R24 "relations"): an asset's
// timeline and its owner → asset → licence → job → receipt graph, every item with its transaction hash.
import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { metadataCid } from '../indexer/metadata'
import { intQuery, uintParam } from '../indexer/params'
import { argsOf, indexedChain, notFound } from '../indexer/read'
import { assetIndexStatus } from '../indexer/status'
import type { IndexerBindings } from '../indexer/settings'

/** What each event means on an asset's timeline. */
const KINDS: Record<string, string> = {
  'DataAssetNFT.AssetMinted': 'mint',
  'DataAssetNFT.Transfer': 'transfer',
  'DataAssetNFT.AssetAmended': 'amend',
  'DataAssetNFT.AssetRevoked': 'revoke',
  'DataAssetNFT.AssetFrozen': 'freeze',
  'DataAssetNFT.AssetUnfrozen': 'unfreeze',
  'DataAssetNFT.AssetDelegateSet': 'delegate',
  'DataAssetNFT.AssetRoyaltySet': 'royalty',
  'DataAssetNFT.MetadataUpdate': 'metadata-update',
  'DataAssetNFT.Approval': 'approval',
  'DataMarket.OfferSet': 'offer',
  'DataMarket.OfferWithdrawn': 'offer-withdrawn',
  'DataMarket.LicencePurchased': 'licence',
  'DataMarket.LicenceConsumed': 'licence-consumed',
  'ComputeLedger.JobRecorded': 'job',
  // A job across assets (R67): the part that ran on this asset, and the group receipt it belongs to.
  'ComputeLedger.JobPartRecorded': 'job-part',
  'ComputeLedger.GroupJobRecorded': 'group-job',
}

interface EventRow {
  block_number: number
  block_time: number
  tx_hash: string
  log_index: number
  contract: string
  name: string
  args: string
}

const MAX_PAGE = 500

async function assetRow(env: IndexerBindings, chainId: number, tokenId: string) {
  const row = await env.DB.prepare('SELECT * FROM assets WHERE chain_id = ? AND token_id = ?')
    .bind(chainId, tokenId)
    .first<Record<string, string | number | null>>()
  return row ?? notFound('asset_not_found', `No indexed asset ${tokenId} on chain ${chainId}`)
}

export const assetHistory = new Hono<AppEnv>()
  .get('/:id/history', async (c) => {
    const env = c.env as IndexerBindings
    const tokenId = uintParam(c.req.param('id'), 'asset id', 'invalid_asset_id')
    const limit = intQuery(c.req.query('limit'), 'limit', MAX_PAGE, 1) ?? 100
    const after = c.req.query('after')
    let cursor = { block: -1, log: -1 }
    if (after !== undefined) {
      const m = /^(\d{1,15}):(\d{1,9})$/.exec(after)
      if (!m) throw new ApiError(400, 'invalid_cursor', 'after must be <blockNumber>:<logIndex> from a previous page')
      cursor = { block: Number(m[1]), log: Number(m[2]) }
    }
    const { chainId, indexedBlock } = await indexedChain(env)
    const status = await assetIndexStatus(env, chainId, tokenId)
    if (status === 'pending' || status === 'failed') {
      // Published through this worker but not (or never) mirrored: no events to show yet.
      return c.json({ chainId, tokenId, contract: null, status, indexedBlock, events: [], next: null })
    }
    const asset = await assetRow(env, chainId, tokenId)
    // Events naming the asset, plus those naming one of its licences (consumption, job receipts and job
    // parts), plus the GroupJobRecorded of a job across assets with a part on it (R67).
    const { results } = await env.DB.prepare(
      `SELECT block_number, block_time, tx_hash, log_index, contract, name, args FROM events
       WHERE chain_id = ?1 AND (token_id = ?2 OR licence_id IN (SELECT licence_id FROM licences WHERE chain_id = ?1 AND token_id = ?2)
           OR (name = 'GroupJobRecorded' AND contract = 'ComputeLedger' AND tx_hash IN
             (SELECT tx_hash FROM receipts WHERE chain_id = ?1 AND token_id = ?2 AND part_count IS NOT NULL)))
         AND (block_number > ?3 OR (block_number = ?3 AND log_index > ?4))
       ORDER BY block_number, log_index LIMIT ?5`,
    )
      .bind(chainId, tokenId, cursor.block, cursor.log, limit + 1)
      .all<EventRow>()
    const page = results.slice(0, limit)
    const last = page[page.length - 1]
    return c.json({
      chainId,
      tokenId,
      contract: asset.contract,
      status: 'indexed' as const,
      indexedBlock,
      events: page.map((e) => ({
        kind: KINDS[`${e.contract}.${e.name}`] ?? 'other',
        contract: e.contract,
        event: e.name,
        blockNumber: e.block_number,
        blockTime: e.block_time,
        txHash: e.tx_hash,
        logIndex: e.log_index,
        args: argsOf(e.args),
      })),
      next: results.length > limit ? `${last.block_number}:${last.log_index}` : null,
    })
  })
  .get('/:id/graph', async (c) => {
    const env = c.env as IndexerBindings
    const tokenId = uintParam(c.req.param('id'), 'asset id', 'invalid_asset_id')
    const { chainId, indexedBlock } = await indexedChain(env)
    const a = await assetRow(env, chainId, tokenId)
    const licenceRows = (
      await env.DB.prepare(
        'SELECT licence_id, buyer, offer_id, price, currency, expires_at, jobs_left, epsilon_left_milli, purchased_tx FROM licences WHERE chain_id = ? AND token_id = ? ORDER BY purchased_block, licence_id',
      )
        .bind(chainId, tokenId)
        .all<Record<string, string | number>>()
    ).results
    const receiptRows = (
      await env.DB.prepare(
        'SELECT * FROM receipts WHERE chain_id = ? AND token_id = ? ORDER BY block_number, job_id, part',
      )
        .bind(chainId, tokenId)
        .all<Record<string, string | number | null>>()
    ).results

    type Node = { id: string; type: string; [k: string]: unknown }
    const nodes: Node[] = []
    const edges: Array<{ from: string; to: string; relation: string; txHash?: string }> = []
    const seen = new Set<string>()
    const node = (n: Node) => {
      if (!seen.has(n.id)) nodes.push(n)
      seen.add(n.id)
    }
    const assetId = `asset:${tokenId}`
    node({ id: `account:${a.owner}`, type: 'account', address: a.owner })
    node({
      id: assetId,
      type: 'asset',
      tokenId,
      contract: a.contract,
      contentHash: a.content_hash,
      metadataDigest: a.metadata_digest,
      metadataCid: a.metadata_digest ? metadataCid(String(a.metadata_digest)) : null,
      revoked: a.revoked === 1,
      frozen: a.frozen === 1,
      mintedTx: a.minted_tx,
    })
    edges.push({ from: `account:${a.owner}`, to: assetId, relation: 'owns' })
    for (const l of licenceRows) {
      const id = `licence:${l.licence_id}`
      node({
        id,
        type: 'licence',
        licenceId: l.licence_id,
        offerId: l.offer_id,
        buyer: l.buyer,
        price: l.price,
        currency: l.currency,
        expiresAt: l.expires_at,
        jobsLeft: l.jobs_left,
        epsilonLeftMilli: l.epsilon_left_milli,
        txHash: l.purchased_tx,
      })
      node({ id: `account:${l.buyer}`, type: 'account', address: l.buyer })
      edges.push({ from: assetId, to: id, relation: 'licensed', txHash: String(l.purchased_tx) })
      edges.push({ from: `account:${l.buyer}`, to: id, relation: 'holds', txHash: String(l.purchased_tx) })
    }
    for (const r of receiptRows) {
      // A job across assets (R67) has one receipt row per part; each part this asset's licences ran is
      // its own receipt node, naming the part and the group's size.
      const group = r.part_count !== null
      const job = `job:${r.job_id}`
      const receipt = group ? `receipt:${r.job_id}:${r.part}` : `receipt:${r.job_id}`
      node({
        id: job,
        type: 'job',
        jobId: r.job_id,
        queryHash: r.query_hash,
        ...(group ? { parts: r.part_count } : {}),
      })
      node({
        id: receipt,
        type: 'receipt',
        jobId: r.job_id,
        ...(group ? { part: r.part, partCount: r.part_count } : {}),
        licenceId: r.licence_id,
        enclave: r.enclave,
        measurement: r.measurement,
        contentHash: r.content_hash,
        queryHash: r.query_hash,
        resultHash: r.result_hash,
        epsilonSpentMilli: r.epsilon_spent_milli,
        signature: r.signature,
        txHash: r.tx_hash,
      })
      edges.push({ from: `licence:${r.licence_id}`, to: job, relation: 'ran' })
      edges.push({ from: job, to: receipt, relation: 'receipt', txHash: String(r.tx_hash) })
    }
    return c.json({ chainId, tokenId, indexedBlock, nodes, edges })
  })
