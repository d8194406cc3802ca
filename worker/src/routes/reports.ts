// GET /api/reports/owner/:address — the fact machine (R20): an owner's sales, usage and withdrawals, each
// line pointing at the event behind it, with balances reconciled against DataMarket on chain to the wei.
import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { contractInterface } from '../indexer/decode'
import { addressParam } from '../indexer/params'
import { indexedChain, notFound } from '../indexer/read'
import type { IndexerBindings } from '../indexer/settings'
import { rpcBatch } from '../services/chain'
import { addressBook } from '../services/config'

interface PaymentRow {
  block_number: number
  log_index: number
  kind: 'sale' | 'fee' | 'withdrawal'
  currency: string
  amount: string
  licence_id: string | null
  token_id: string | null
  tx_hash: string
}

/** Where the event behind a report line can be fetched (its canonical ledger line). */
const evidence = (chainId: number, txHash: string, logIndex: number, blockNumber: number) => ({
  chainId,
  blockNumber,
  txHash,
  logIndex,
  href: `/api/audit/events/${txHash}/${logIndex}`,
})

export const reports = new Hono<AppEnv>().get('/owner/:address', async (c) => {
  const env = c.env as IndexerBindings
  const owner = addressParam(c.req.param('address'))
  const { chainId, indexedBlock } = await indexedChain(env)
  const db = env.DB
  const [assetRows, paymentRows, licenceRows, usageRows] = await db.batch([
    db
      .prepare(
        // The title from the indexed metadata, so the owner sees which dataset each row is.
        `SELECT a.token_id, a.content_hash, a.revoked, a.frozen, m.title FROM assets a
         LEFT JOIN asset_metadata m ON m.digest = a.metadata_digest AND m.status = 'ok'
         WHERE a.chain_id = ? AND a.owner = ? ORDER BY CAST(a.token_id AS INTEGER)`,
      )
      .bind(chainId, owner),
    db
      .prepare('SELECT * FROM payments WHERE chain_id = ? AND account = ? ORDER BY block_number, log_index')
      .bind(chainId, owner),
    db
      .prepare(
        `SELECT l.licence_id, l.token_id, l.buyer, l.currency, l.price, l.fee, l.purchased_tx, l.purchased_block, l.purchased_time,
         (SELECT log_index FROM events e WHERE e.chain_id = l.chain_id AND e.tx_hash = l.purchased_tx AND e.name = 'LicencePurchased' AND e.licence_id = l.licence_id) AS log_index
       FROM licences l WHERE l.chain_id = ? AND l.owner = ? ORDER BY l.purchased_block, l.licence_id`,
      )
      .bind(chainId, owner),
    db
      .prepare(
        // A job across assets (R67) is one line per part that ran on the owner's data, pointing at that
        // part's JobPartRecorded (it names the licence and the ε) and at the group's GroupJobRecorded.
        `SELECT r.job_id, r.part, r.part_count, r.licence_id, r.token_id, r.query_hash, r.result_hash, r.epsilon_spent_milli,
           r.tx_hash, r.block_number, r.block_time,
         (SELECT log_index FROM events e WHERE e.chain_id = r.chain_id AND e.tx_hash = r.tx_hash AND e.licence_id = r.licence_id
            AND e.name = CASE WHEN r.part_count IS NULL THEN 'JobRecorded' ELSE 'JobPartRecorded' END) AS log_index,
         CASE WHEN r.part_count IS NOT NULL THEN
           (SELECT log_index FROM events e WHERE e.chain_id = r.chain_id AND e.tx_hash = r.tx_hash AND e.name = 'GroupJobRecorded')
         END AS group_log_index
       FROM receipts r JOIN licences l ON l.chain_id = r.chain_id AND l.licence_id = r.licence_id
       WHERE r.chain_id = ? AND l.owner = ? ORDER BY r.block_number, r.job_id, r.part`,
      )
      .bind(chainId, owner),
  ])
  const assets = assetRows.results as Array<{
    token_id: string
    content_hash: string
    revoked: number
    frozen: number
    title: string | null
  }>
  const payments = paymentRows.results as unknown as PaymentRow[]
  const licences = licenceRows.results as Array<Record<string, string | number>>
  const usage = usageRows.results as Array<Record<string, string | number | null>>
  if (!assets.length && !payments.length && !licences.length) {
    notFound('owner_not_found', `No asset, sale or payment of ${owner} is indexed on chain ${chainId}`)
  }

  // Balance per currency from the payment book; the chain's own figure at the same block to compare.
  const totals = new Map<string, { earned: bigint; fees: bigint; withdrawn: bigint }>()
  for (const p of payments) {
    const t = totals.get(p.currency) ?? { earned: 0n, fees: 0n, withdrawn: 0n }
    if (p.kind === 'sale') t.earned += BigInt(p.amount)
    else if (p.kind === 'fee') t.fees += BigInt(p.amount)
    else t.withdrawn -= BigInt(p.amount)
    totals.set(p.currency, t)
  }
  const currencies = [...totals.keys()].sort()
  const market = contractInterface('DataMarket')
  const to = addressBook(env).contracts.DataMarket
  const onChain = currencies.length
    ? ((await rpcBatch(
        env,
        currencies.map(
          (cur) =>
            [
              'eth_call',
              [
                { to, data: market.encodeFunctionData('pendingWithdrawal', [owner, cur]) },
                `0x${indexedBlock.toString(16)}`,
              ],
            ] as [string, unknown[]],
        ),
      )) as string[])
    : []
  const balances = currencies.map((currency, i) => {
    const t = totals.get(currency)!
    const balance = t.earned + t.fees - t.withdrawn
    const chain = BigInt(market.decodeFunctionResult('pendingWithdrawal', onChain[i])[0] as bigint)
    return {
      currency,
      earned: t.earned.toString(),
      fees: t.fees.toString(),
      withdrawn: t.withdrawn.toString(),
      balance: balance.toString(),
      onChainBalance: chain.toString(),
      reconciled: balance === chain,
    }
  })

  return c.json({
    owner,
    chainId,
    asOfBlock: indexedBlock,
    assets: assets.map((a) => ({
      tokenId: a.token_id,
      title: a.title,
      contentHash: a.content_hash,
      revoked: a.revoked === 1,
      frozen: a.frozen === 1,
      licencesSold: licences.filter((l) => l.token_id === a.token_id).length,
      jobs: usage.filter((u) => u.token_id === a.token_id).length,
    })),
    sales: licences.map((l) => ({
      licenceId: l.licence_id,
      tokenId: l.token_id,
      buyer: l.buyer,
      currency: l.currency,
      price: l.price,
      fee: l.fee,
      net: (BigInt(l.price) - BigInt(l.fee)).toString(),
      time: l.purchased_time,
      evidence: evidence(chainId, String(l.purchased_tx), Number(l.log_index), Number(l.purchased_block)),
    })),
    usage: usage.map((u) => ({
      jobId: u.job_id,
      ...(u.part_count === null
        ? {}
        : {
            part: Number(u.part),
            partCount: Number(u.part_count),
            groupEvidence: evidence(chainId, String(u.tx_hash), Number(u.group_log_index), Number(u.block_number)),
          }),
      licenceId: u.licence_id,
      tokenId: u.token_id,
      queryHash: u.query_hash,
      resultHash: u.result_hash,
      epsilonSpentMilli: u.epsilon_spent_milli,
      time: u.block_time,
      evidence: evidence(chainId, String(u.tx_hash), Number(u.log_index), Number(u.block_number)),
    })),
    ledger: payments.map((p) => ({
      kind: p.kind,
      currency: p.currency,
      amount: p.amount,
      licenceId: p.licence_id,
      tokenId: p.token_id,
      evidence: evidence(chainId, p.tx_hash, p.log_index, p.block_number),
    })),
    balances,
    reconciled: balances.every((b) => b.reconciled),
  })
})
