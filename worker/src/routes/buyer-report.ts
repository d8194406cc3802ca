// GET /api/reports/buyer/:address — the buyer's side of the ledger (issue 7, buyer dashboard): licences
// with the quota and ε left as of the latest indexed block, and the compute jobs the buyer signed with
// their status and the ε each spent. Results stay sealed to the buyer; this lists only their facts.
import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { addressParam } from '../indexer/params'
import { indexedChain } from '../indexer/read'
import type { IndexerBindings } from '../indexer/settings'

const MAX_ROWS = 200

/** Why a licence cannot run jobs, in the order DataMarket.consumeLicence checks (none: it is live). */
type Idle = 'expired' | 'no_jobs_left' | 'asset_revoked' | 'asset_frozen'

function liveness(l: Record<string, string | number | null>, now: number): { live: boolean; notLive?: Idle } {
  const idle: Idle | undefined =
    Number(l.expires_at) <= now
      ? 'expired'
      : l.jobs_left !== null && Number(l.jobs_left) <= 0
        ? 'no_jobs_left'
        : Number(l.revoked) === 1
          ? 'asset_revoked'
          : Number(l.frozen) === 1
            ? 'asset_frozen'
            : undefined
  return idle ? { live: false, notLive: idle } : { live: true }
}

export const buyerReport = new Hono<AppEnv>().get('/buyer/:address', async (c) => {
  const env = c.env as IndexerBindings
  const buyer = addressParam(c.req.param('address'))
  const { chainId, indexedBlock } = await indexedChain(env)
  const [licenceRows, jobRows, partRows] = await env.DB.batch([
    env.DB.prepare(
      `SELECT l.licence_id, l.token_id, l.offer_id, l.owner, l.currency, l.price, l.expires_at, l.jobs_left,
              l.epsilon_left_milli, l.purchased_tx, l.purchased_time, a.revoked, a.frozen
       FROM licences l LEFT JOIN assets a ON a.chain_id = l.chain_id AND a.token_id = l.token_id
       WHERE l.chain_id = ? AND l.buyer = ? ORDER BY l.purchased_block DESC, CAST(l.licence_id AS INTEGER) DESC LIMIT ?`,
    ).bind(chainId, buyer, MAX_ROWS),
    env.DB.prepare(
      `SELECT job_id, licence_id, token_id, query, query_hash, status, reason_code, reason_message, epsilon_spent_milli,
              result_hash, receipt_tx, result_deleted, created_at, finished_at
       FROM compute_jobs WHERE chain_id = ? AND buyer = ? ORDER BY created_at DESC LIMIT ?`,
    ).bind(chainId, buyer, MAX_ROWS),
    // The parts of the listed jobs across assets (R67): each licence, asset and the ε it was charged.
    env.DB.prepare(
      `SELECT p.job_id, p.part, p.licence_id, p.token_id, p.epsilon_spent_milli, j.status FROM compute_job_parts p
       JOIN (SELECT job_id, status FROM compute_jobs WHERE chain_id = ? AND buyer = ? ORDER BY created_at DESC LIMIT ?) j
         ON j.job_id = p.job_id
       ORDER BY p.job_id, p.part`,
    ).bind(chainId, buyer, MAX_ROWS),
  ])
  const parts = new Map<string, Array<{ licenceId: string; tokenId: string; epsilonSpentMilli: number | null }>>()
  for (const p of partRows.results as Array<Record<string, string | number | null>>) {
    const list = parts.get(String(p.job_id)) ?? []
    list.push({
      licenceId: String(p.licence_id),
      tokenId: String(p.token_id),
      // As the job view: a part's ε is a fact only once the group receipt is recorded.
      epsilonSpentMilli:
        p.status === 'succeeded' && p.epsilon_spent_milli !== null ? Number(p.epsilon_spent_milli) : null,
    })
    parts.set(String(p.job_id), list)
  }
  const now = Math.floor(Date.now() / 1000)
  c.header('cache-control', 'no-store')
  return c.json({
    buyer,
    chainId,
    asOfBlock: indexedBlock,
    licences: (licenceRows.results as Array<Record<string, string | number | null>>).map((l) => ({
      licenceId: String(l.licence_id),
      tokenId: String(l.token_id),
      offerId: String(l.offer_id),
      owner: String(l.owner),
      currency: String(l.currency),
      price: String(l.price),
      expiresAt: Number(l.expires_at),
      ...liveness(l, now),
      jobsLeft: l.jobs_left === null ? null : Number(l.jobs_left),
      epsilonLeftMilli: l.epsilon_left_milli === null ? null : Number(l.epsilon_left_milli),
      purchasedTx: String(l.purchased_tx),
      purchasedTime: Number(l.purchased_time),
    })),
    jobs: (jobRows.results as Array<Record<string, string | number | null>>).map((j) => ({
      jobId: String(j.job_id),
      licenceId: String(j.licence_id),
      tokenId: String(j.token_id),
      ...(parts.has(String(j.job_id)) ? { parts: parts.get(String(j.job_id)) } : {}),
      query: String(j.query),
      queryHash: String(j.query_hash),
      status: String(j.status),
      ...(j.reason_code ? { reason: { code: String(j.reason_code), message: String(j.reason_message ?? '') } } : {}),
      epsilonSpentMilli: j.epsilon_spent_milli === null ? null : Number(j.epsilon_spent_milli),
      resultHash: j.result_hash === null ? null : String(j.result_hash),
      receiptTx: j.receipt_tx === null ? null : String(j.receipt_tx),
      resultAvailable: j.status === 'succeeded' && !j.result_deleted,
      createdAt: Number(j.created_at),
      finishedAt: j.finished_at === null ? null : Number(j.finished_at),
    })),
  })
})
