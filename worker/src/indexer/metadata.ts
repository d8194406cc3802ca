// Owns asset metadata: fetches the JSON whose SHA-256 the chain anchors (`metadataDigest`) from IPFS,
// checks the hash, caches title/description/tags by digest, and keeps the FTS5 search table in step.
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from '@noble/hashes/sha2.js'
import { reaching, requireSetting } from '../services/config'
import { searchable } from './search-text'
import type { IndexerBindings } from './settings'

const RAW = 0x55
const SHA2_256 = 0x12
/** Retry a missing block after this many seconds, doubling per attempt up to a day. */
const RETRY_BASE_S = 30
const MAX_PER_RUN = 20

const fromHex = (h: string) => Uint8Array.from(h.slice(2).match(/../g) ?? [], (b) => parseInt(b, 16))
const toHex = (b: Uint8Array) => '0x' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

/**
 * The CID of the metadata JSON: the publish flow stores it as one raw block, so its CID is
 * CIDv1(raw, sha2-256(digest)) — the chain's digest names the IPFS block directly.
 */
export function metadataCid(digest: string): string {
  return CID.create(1, RAW, Digest.create(SHA2_256, fromHex(digest))).toString()
}

export interface AssetMetadataFields {
  title: string | null
  description: string | null
  tags: string[]
}

/** Title, description and tags from OpenSea-style metadata with Stillflow's extension. */
export function metadataFields(json: unknown): AssetMetadataFields {
  const o = (json && typeof json === 'object' ? json : {}) as Record<string, unknown>
  const ext = (o.stillflow && typeof o.stillflow === 'object' ? o.stillflow : {}) as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v.slice(0, 10_000) : null)
  const rawTags = Array.isArray(ext.tags) ? ext.tags : Array.isArray(o.tags) ? o.tags : []
  return {
    title: str(o.name) ?? str(o.title),
    description: str(o.description),
    tags: rawTags.filter((t): t is string => typeof t === 'string').slice(0, 50),
  }
}

/**
 * Rebuilds the search rows of `tokenIds` from assets joined with their current metadata, as searchable
 * text (search-text.ts). Read first, then replaced in one batch per slice of tokens.
 */
export async function refreshSearch(db: D1Database, chainId: number, tokenIds: string[]): Promise<void> {
  // D1 binds at most 100 parameters per statement.
  for (let i = 0; i < tokenIds.length; i += 90) {
    const slice = tokenIds.slice(i, i + 90)
    const marks = slice.map(() => '?').join(', ')
    const { results } = await db
      .prepare(
        `SELECT a.token_id AS tokenId, coalesce(m.title, '') AS title, coalesce(m.description, '') AS description,
           coalesce((SELECT group_concat(value, ' ') FROM json_each(m.tags)), '') AS tags
         FROM assets a JOIN asset_metadata m ON m.digest = a.metadata_digest AND m.status = 'ok'
         WHERE a.chain_id = ? AND a.token_id IN (${marks})`,
      )
      .bind(chainId, ...slice)
      .all<{ tokenId: string; title: string; description: string; tags: string }>()
    await db.batch([
      db.prepare(`DELETE FROM asset_search WHERE chain_id = ? AND token_id IN (${marks})`).bind(chainId, ...slice),
      ...results.map((r) =>
        db
          .prepare('INSERT INTO asset_search (title, description, tags, chain_id, token_id) VALUES (?, ?, ?, ?, ?)')
          .bind(searchable(r.title), searchable(r.description), searchable(r.tags), chainId, r.tokenId),
      ),
    ])
  }
}

/**
 * Fetches metadata for assets whose digest is not cached yet, or whose block was missing and is due for a
 * retry. A block whose hash does not match the digest is `invalid` (never retried: the digest is fixed).
 */
export async function syncMetadata(
  env: IndexerBindings,
  chainId: number,
  nowSeconds: number,
): Promise<{ fetched: number; missing: number; invalid: number }> {
  const db = env.DB
  const due = (
    await db
      .prepare(
        `SELECT DISTINCT a.metadata_digest AS digest, m.attempts AS attempts FROM assets a
         LEFT JOIN asset_metadata m ON m.digest = a.metadata_digest
         WHERE a.chain_id = ? AND a.metadata_digest IS NOT NULL
           AND (m.digest IS NULL OR (m.status = 'missing' AND m.retry_at <= ?))
         LIMIT ?`,
      )
      .bind(chainId, nowSeconds, MAX_PER_RUN)
      .all<{ digest: string; attempts: number | null }>()
  ).results
  const out = { fetched: 0, missing: 0, invalid: 0 }
  if (!due.length) return out
  const api = requireSetting(env, 'IPFS_API_URL')
  const changed: string[] = []
  for (const { digest, attempts } of due) {
    const cid = metadataCid(digest)
    const tries = (attempts ?? 0) + 1
    const url = `${api}/api/v0/block/get?arg=${cid}`
    const res = await reaching('the IPFS API', api, () =>
      fetch(url, { method: 'POST', signal: AbortSignal.timeout(10_000) }),
    )
    let row: { status: 'ok' | 'missing' | 'invalid'; fields?: AssetMetadataFields }
    if (!res.ok) {
      await res.body?.cancel()
      row = { status: 'missing' }
    } else {
      const bytes = new Uint8Array(await res.arrayBuffer())
      if (toHex(sha256(bytes)) !== digest) row = { status: 'invalid' }
      else {
        try {
          row = {
            status: 'ok',
            fields: metadataFields(
              JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)),
            ),
          }
        } catch {
          // Bytes match the digest the owner signed but are not JSON: a fact about the asset, not an error of ours.
          row = { status: 'invalid' }
        }
      }
    }
    out[row.status === 'ok' ? 'fetched' : row.status]++
    const retryAt = row.status === 'missing' ? nowSeconds + Math.min(86_400, RETRY_BASE_S * 2 ** (tries - 1)) : null
    await db
      .prepare(
        `INSERT OR REPLACE INTO asset_metadata (digest, cid, status, title, description, tags, attempts, retry_at, fetched_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .bind(
        digest,
        cid,
        row.status,
        row.fields?.title ?? null,
        row.fields?.description ?? null,
        row.fields ? JSON.stringify(row.fields.tags) : null,
        tries,
        retryAt,
        row.status === 'ok' ? nowSeconds : null,
      )
      .run()
    if (row.status === 'ok') changed.push(digest)
  }
  if (changed.length) {
    const tokens = (
      await db
        .prepare(
          `SELECT token_id FROM assets WHERE chain_id = ? AND metadata_digest IN (${changed.map(() => '?').join(',')})`,
        )
        .bind(chainId, ...changed)
        .all<{ token_id: string }>()
    ).results.map((r) => r.token_id)
    await refreshSearch(db, chainId, tokens)
  }
  return out
}
