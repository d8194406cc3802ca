// Owns the index status the API shows for what the worker sends to the chain (issue 8): `pending` until
// the indexer has mirrored the transaction's events, `indexed` once it has, `failed` when the transaction
// was never sent or was refused (a failed publication, a job that failed or expired).
import type { IndexerBindings } from './settings'

export type IndexStatus = 'pending' | 'indexed' | 'failed'

/** A compute job's index status: its `JobRecorded` (or, across assets, `GroupJobRecorded`, R67) is in `receipts`, or not yet. */
export async function jobIndexStatus(
  env: IndexerBindings,
  job: { jobId: string; chainId: number; status: string },
): Promise<IndexStatus> {
  if (job.status === 'failed' || job.status === 'expired') return 'failed'
  if (job.status !== 'succeeded') return 'pending'
  const row = await env.DB.prepare('SELECT 1 AS x FROM receipts WHERE chain_id = ? AND job_id = ?')
    .bind(job.chainId, job.jobId)
    .first()
  return row ? 'indexed' : 'pending'
}

/**
 * An asset's index status: `indexed` when its mint is mirrored, `pending` when a publication minted it
 * (or is minting it) and the indexer has not caught up, `failed` when its only publication failed; null
 * when nothing is known of the token.
 */
export async function assetIndexStatus(
  env: IndexerBindings,
  chainId: number,
  tokenId: string,
): Promise<IndexStatus | null> {
  const row = await env.DB.prepare(
    `SELECT (SELECT 1 FROM assets WHERE chain_id = ?1 AND token_id = ?2) AS indexed,
            (SELECT group_concat(status) FROM publications WHERE chain_id = ?1 AND token_id = ?2) AS publications`,
  )
    .bind(chainId, tokenId)
    .first<{ indexed: number | null; publications: string | null }>()
  if (row?.indexed) return 'indexed'
  const pubs = row?.publications?.split(',') ?? []
  if (pubs.some((s) => s !== 'failed')) return 'pending'
  return pubs.length ? 'failed' : null
}
