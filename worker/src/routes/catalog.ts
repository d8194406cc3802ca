// GET /api/assets (browse and search) and GET /api/assets/:id (one asset's public facts): the storefront's
// reads of the index (R4, R8, R23, R24, R37). Everything here is public: chain mirror rows, the owner's
// signed declaration (fetched from IPFS and checked against the digest the chain anchors) and the enclave's
// signed ingest summary kept by the publish flow. `/:id/history` and `/:id/graph` live in asset-history.ts.
import { decodeBytes32String } from 'ethers'
import { Hono } from 'hono'
import { NATIVE_CURRENCY } from '../../../contracts/index'
import { base64url, fromBase64url, utf8 } from '../../../tee-sim/src/bytes'
import type { AppEnv } from '../env'
import { ApiError, echo } from '../errors'
import { offerLapse } from './offer-rules'
import { normalizePolicy } from '../../../tee-sim/src/policy'
import { addressBook } from '../services/config'
import { metadataCid } from '../indexer/metadata'
import { addressParam, intQuery, uintParam } from '../indexer/params'
import { indexedChain, notFound } from '../indexer/read'
import { ftsPhrase } from '../indexer/search-text'
import type { IndexerBindings } from '../indexer/settings'
import { isTag, TAG_RULE } from '../../../sdk/src/tags'

const MAX_LIMIT = 50
const DEFAULT_LIMIT = 20
/** Candidates examined per request when a filter needs the declaration (format, policy kind). */
const SCAN_BUDGET = 200
const MAX_TERMS = 8
const MAX_TAGS = 5
const WEI = /^(0|[1-9][0-9]{0,77})$/
const FORMATS = ['csv', 'jsonl'] as const
const POLICY_KINDS = ['dp', 'aggregates-only'] as const
/**
 * `popular` orders by use recorded on chain: licences sold plus jobs recorded (ComputeLedger receipts),
 * then newest. It is the storefront's "featured" list (R37): earned by use, never paid placement.
 */
const SORTS = ['newest', 'price', 'popular'] as const
const NATIVE = NATIVE_CURRENCY.toLowerCase()

/**
 * The ERC-20s DataMarket accepts at the indexed block, as a SQL subquery of lowercase addresses (for `IN`),
 * with `chain` the SQL of the chain id. The indexer keeps no derived row for the allow-list, but the ledger
 * keeps every log the market emits (`events`, replayed into every derived table), so the latest
 * `CurrencyAllowed(currency, allowed)` per currency is the contract's `isCurrencyAllowed` at the indexed
 * block, and a token never allowed has no event and is not accepted, as on chain. Not correlated with the
 * outer row, so SQLite evaluates it at most once a statement, and only when an ERC-20 offer reaches it.
 */
const acceptedTokens = (chain: string) => `(SELECT currency FROM (
    SELECT e.args ->> '$.currency' AS currency, e.args ->> '$.allowed' AS allowed,
      row_number() OVER (PARTITION BY e.args ->> '$.currency' ORDER BY e.block_number DESC, e.log_index DESC) AS latest
    FROM events e WHERE e.chain_id = ${chain} AND e.contract = 'DataMarket' AND e.name = 'CurrencyAllowed'
  ) WHERE latest = 1 AND allowed = 1)`

type Format = (typeof FORMATS)[number]
type PolicyKind = (typeof POLICY_KINDS)[number]
type Sort = (typeof SORTS)[number]

export interface BrowseQuery {
  q?: string
  tags: string[]
  format?: Format
  policy?: PolicyKind
  owner?: string
  minPrice?: string
  maxPrice?: string
  sort: Sort
  limit: number
  cursor?: Cursor
}

/** Where the previous page ended, in the sort's key order. Opaque to clients (base64url JSON). */
type Cursor =
  { s: 'newest'; t: string } | { s: 'price'; p: string | null; t: string } | { s: 'popular'; n: number; t: string }

const bad = (code: string, message: string) => new ApiError(400, code, message)

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T | undefined {
  if (value === undefined || value === '') return undefined
  if (!(allowed as readonly string[]).includes(value))
    throw bad(`invalid_${name}`, `${name} must be one of ${allowed.join(', ')}, got ${echo(value)}`)
  return value as T
}

function weiQuery(value: string | undefined, name: string): string | undefined {
  if (value === undefined || value === '') return undefined
  if (!WEI.test(value))
    throw bad(
      `invalid_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`,
      `${name} must be an amount in wei (a decimal integer), got ${echo(value)}`,
    )
  return value
}

export function encodeCursor(c: Cursor): string {
  return base64url(utf8(JSON.stringify(c)))
}

function decodeCursor(value: string, sort: Sort): Cursor {
  const invalid = () => bad('invalid_cursor', 'cursor must be the `next` value of a previous page with the same sort')
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(value)) throw invalid()
  let c: Record<string, unknown>
  try {
    c = JSON.parse(new TextDecoder().decode(fromBase64url(value)))
  } catch {
    throw invalid()
  }
  if (!c || typeof c !== 'object' || c.s !== sort || typeof c.t !== 'string' || !WEI.test(c.t)) throw invalid()
  if (sort === 'price' && !(c.p === null || (typeof c.p === 'string' && WEI.test(c.p)))) throw invalid()
  if (sort === 'popular' && !(Number.isSafeInteger(c.n) && (c.n as number) >= 0)) throw invalid()
  return c as Cursor
}

/**
 * The FTS5 expression for free text: each word (letters and digits) becomes a quoted prefix term, all
 * required. Users never write FTS5 syntax, so a stray quote or `NEAR` cannot turn into a syntax error.
 */
export function ftsQuery(q: string): string {
  const words = q.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []
  if (!words.length) throw bad('invalid_q', 'q must contain at least one letter or digit')
  if (words.length > MAX_TERMS) throw bad('invalid_q', `q may hold at most ${MAX_TERMS} words`)
  return words.map((w) => ftsPhrase(w.toLowerCase())).join(' ')
}

/** The owner filter, named as such in its error (the shared address check says only "address"). */
function ownerParam(value: string): string {
  try {
    return addressParam(value)
  } catch {
    throw bad('invalid_owner', `owner must be an address, 0x followed by 40 hex digits, got ${echo(value)}`)
  }
}

/** Validates every browse parameter; an unknown parameter is refused so a typo never silently widens a search. */
export function parseBrowse(url: URL): BrowseQuery {
  const known = new Set(['q', 'tag', 'format', 'policy', 'owner', 'minPrice', 'maxPrice', 'sort', 'limit', 'cursor'])
  for (const key of url.searchParams.keys())
    if (!known.has(key)) throw bad('unknown_parameter', `unknown query parameter ${JSON.stringify(key)}`)
  const single = (name: string) => {
    const all = url.searchParams.getAll(name)
    if (all.length > 1)
      throw bad(`invalid_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`, `${name} may be given once`)
    return all[0]
  }
  const qRaw = single('q')?.trim()
  if (qRaw && qRaw.length > 200) throw bad('invalid_q', 'q may be at most 200 characters')
  const tags = [...new Set(url.searchParams.getAll('tag').filter((t) => t !== ''))]
  if (tags.length > MAX_TAGS) throw bad('invalid_tag', `at most ${MAX_TAGS} tags`)
  for (const t of tags) if (!isTag(t)) throw bad('invalid_tag', `tag ${echo(t)} ${TAG_RULE}`)
  const ownerRaw = single('owner')
  const minPrice = weiQuery(single('minPrice'), 'minPrice')
  const maxPrice = weiQuery(single('maxPrice'), 'maxPrice')
  if (minPrice !== undefined && maxPrice !== undefined && BigInt(minPrice) > BigInt(maxPrice))
    throw bad('invalid_price_range', 'minPrice must not exceed maxPrice')
  const sort = oneOf(single('sort'), SORTS, 'sort') ?? 'newest'
  const limitRaw = single('limit')
  const limit = intQuery(limitRaw === '' ? undefined : limitRaw, 'limit', MAX_LIMIT, 1) ?? DEFAULT_LIMIT
  const cursorRaw = single('cursor')
  return {
    q: qRaw ? qRaw : undefined,
    tags,
    format: oneOf(single('format'), FORMATS, 'format'),
    policy: oneOf(single('policy'), POLICY_KINDS, 'policy'),
    owner: ownerRaw ? ownerParam(ownerRaw) : undefined,
    minPrice,
    maxPrice,
    sort,
    limit,
    cursor: cursorRaw ? decodeCursor(cursorRaw, sort) : undefined,
  }
}

// ---- The owner's declaration, from IPFS ---------------------------------------------------------------

/** The fields of the signed declaration the storefront shows; null members were absent or malformed. */
export interface Declaration {
  format: string | null
  policy: Record<string, unknown> | null
  lawfulBasis: { basis: string; statement: string; personalData: boolean } | null
  ciphertextCid: string | null
  ciphertextSize: number | null
  plaintextSize: number | null
}

/**
 * Declarations by digest. The digest fixes the bytes, so a cached answer can never be stale; the size
 * bound only limits memory. Failures are not cached (IPFS may come back).
 */
const declarations = new Map<string, Declaration>()
const MAX_CACHED = 2000

const toHex = (b: ArrayBuffer) => '0x' + Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('')

/**
 * The declaration's bytes exactly as the owner signed them, fetched from IPFS by the CID that names
 * `digest`; null when IPFS cannot serve bytes with that digest now. Throws when it cannot be reached.
 */
export async function declarationBytes(env: IndexerBindings, digest: string): Promise<ArrayBuffer | null> {
  const api = env.IPFS_API_URL?.replace(/\/+$/, '')
  if (!api) return null
  const res = await fetch(`${api}/api/v0/block/get?arg=${metadataCid(digest)}`, {
    method: 'POST',
    signal: AbortSignal.timeout(5_000),
  })
  if (!res.ok) {
    await res.body?.cancel()
    return null
  }
  const bytes = await res.arrayBuffer()
  return toHex(await crypto.subtle.digest('SHA-256', bytes)) === digest ? bytes : null
}

/** Fetches and checks the declaration the chain anchors; null when IPFS cannot serve matching bytes now. */
export async function declarationOf(env: IndexerBindings, digest: string): Promise<Declaration | null> {
  const hit = declarations.get(digest)
  if (hit) return hit
  try {
    const bytes = await declarationBytes(env, digest)
    if (!bytes) return null
    const json = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    const sf = (json.stillflow ?? {}) as Record<string, unknown>
    const lb = sf.lawfulBasis as Record<string, unknown> | undefined
    const d: Declaration = {
      format: typeof sf.format === 'string' ? sf.format : null,
      policy: sf.policy && typeof sf.policy === 'object' ? (sf.policy as Record<string, unknown>) : null,
      lawfulBasis:
        lb && typeof lb.basis === 'string' && typeof lb.statement === 'string'
          ? { basis: lb.basis, statement: lb.statement, personalData: lb.personalData === true }
          : null,
      ciphertextCid: typeof sf.ciphertextCid === 'string' ? sf.ciphertextCid : null,
      ciphertextSize: typeof sf.ciphertextSize === 'number' ? sf.ciphertextSize : null,
      plaintextSize: typeof sf.plaintextSize === 'number' ? sf.plaintextSize : null,
    }
    if (declarations.size >= MAX_CACHED) declarations.delete(declarations.keys().next().value as string)
    declarations.set(digest, d)
    return d
  } catch (err) {
    // The page still renders from the index; the missing facts are shown as unavailable.
    console.warn('declaration unavailable', digest, (err as Error).message)
    return null
  }
}

/** Declared policy mode; the enclave's default policy is differential privacy. */
export const policyKind = (d: Declaration | null): PolicyKind | null =>
  !d ? null : d.policy?.mode === 'aggregates-only' ? 'aggregates-only' : 'dp'

// ---- Browse -------------------------------------------------------------------------------------------

interface Row {
  token_id: string
  owner: string
  content_hash: string | null
  metadata_digest: string | null
  minted_time: number | null
  minted_tx: string | null
  frozen: number
  title: string | null
  description: string | null
  tags: string | null
  price: string | null
  offer_count: number
  licence_count: number
  job_count: number
  row_count: number | null
  column_count: number | null
}

/** SQL for one batch of candidates in sort order, after `cursor`. Prices compare as (length, text): exact for wei. */
function browseSql(q: BrowseQuery, chainId: number, cursor: Cursor | undefined, take: number) {
  const where: string[] = ['a.chain_id = ?1', 'a.revoked = 0']
  const binds: unknown[] = [chainId, NATIVE]
  const bind = (v: unknown) => {
    binds.push(v)
    return `?${binds.length}`
  }
  if (q.q)
    where.push(
      `a.token_id IN (SELECT token_id FROM asset_search WHERE asset_search MATCH ${bind(ftsQuery(q.q))} AND chain_id = ?1)`,
    )
  for (const t of q.tags) where.push(`EXISTS (SELECT 1 FROM json_each(a.tags) WHERE value = ${bind(t)})`)
  if (q.owner) where.push(`a.owner = ${bind(q.owner)}`)
  if (q.minPrice !== undefined) {
    const p = bind(q.minPrice)
    where.push(`price IS NOT NULL AND (length(price), price) >= (length(${p}), ${p})`)
  }
  if (q.maxPrice !== undefined) {
    const p = bind(q.maxPrice)
    where.push(`price IS NOT NULL AND (length(price), price) <= (length(${p}), ${p})`)
  }
  let order: string
  if (q.sort === 'newest') {
    // Token ids are minted in sequence, so the highest id is the newest asset.
    order = 'length(a.token_id) DESC, a.token_id DESC'
    if (cursor) {
      const t = bind(cursor.t)
      where.push(`(length(a.token_id), a.token_id) < (length(${t}), ${t})`)
    }
  } else if (q.sort === 'popular') {
    order = '(licence_count + job_count) DESC, length(a.token_id) DESC, a.token_id DESC'
    if (cursor && cursor.s === 'popular') {
      const n = bind(cursor.n)
      const t = bind(cursor.t)
      where.push(
        `((licence_count + job_count) < ${n} OR ((licence_count + job_count) = ${n} AND (length(a.token_id), a.token_id) < (length(${t}), ${t})))`,
      )
    }
  } else {
    // Cheapest live offer first; assets without one come last.
    order = `price IS NULL, length(price), price, length(a.token_id), a.token_id`
    if (cursor && cursor.s === 'price') {
      const p = bind(cursor.p ?? '')
      const t = bind(cursor.t)
      where.push(
        `(price IS NULL, length(coalesce(price, '')), coalesce(price, ''), length(a.token_id), a.token_id) > (${cursor.p === null ? 1 : 0}, length(${p}), ${p}, length(${t}), ${t})`,
      )
    }
  }
  const sql = `SELECT * FROM (
      SELECT a.chain_id, a.token_id, a.owner, a.content_hash, a.metadata_digest, a.minted_time, a.minted_tx, a.revoked, a.frozen,
        m.title, m.description, m.tags,
        (SELECT o.price FROM offers o WHERE o.chain_id = a.chain_id AND o.token_id = a.token_id AND o.withdrawn = 0
           AND o.superseded = 0 AND o.owner = a.owner AND a.frozen = 0 AND o.currency = ?2 ORDER BY length(o.price), o.price LIMIT 1) AS price,
        (SELECT count(*) FROM offers o WHERE o.chain_id = a.chain_id AND o.token_id = a.token_id AND o.withdrawn = 0
           AND o.superseded = 0 AND o.owner = a.owner AND a.frozen = 0
           AND (o.currency = ?2 OR o.currency IN ${acceptedTokens('?1')})) AS offer_count,
        (SELECT count(*) FROM licences l WHERE l.chain_id = a.chain_id AND l.token_id = a.token_id) AS licence_count,
        (SELECT count(*) FROM receipts r WHERE r.chain_id = a.chain_id AND r.token_id = a.token_id) AS job_count,
        json_extract(p.result, '$.ingest.receipt.noisyRowCount') AS row_count,
        json_array_length(p.result, '$.ingest.schema') AS column_count
      FROM assets a
      LEFT JOIN asset_metadata m ON m.digest = a.metadata_digest AND m.status = 'ok'
      LEFT JOIN publications p ON p.chain_id = a.chain_id AND p.token_id = a.token_id AND p.status = 'minted'
    ) a WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${bind(take)}`
  return { sql, binds }
}

const cursorOf = (sort: Sort, r: Row): Cursor =>
  sort === 'newest'
    ? { s: 'newest', t: r.token_id }
    : sort === 'popular'
      ? { s: 'popular', n: r.licence_count + r.job_count, t: r.token_id }
      : { s: 'price', p: r.price, t: r.token_id }

function summary(r: Row, chainId: number, d: Declaration | null) {
  const description = r.description ?? ''
  return {
    chainId,
    tokenId: r.token_id,
    status: 'indexed' as const,
    title: r.title,
    description: description.length > 280 ? `${description.slice(0, 279)}…` : description,
    tags: r.tags ? (JSON.parse(r.tags) as string[]) : [],
    owner: r.owner,
    contentHash: r.content_hash,
    mintedTime: r.minted_time,
    mintedTx: r.minted_tx,
    frozen: Boolean(r.frozen),
    format: d?.format ?? null,
    policyKind: policyKind(d),
    rowCount: r.row_count,
    columnCount: r.column_count,
    price: r.price === null ? null : { amount: r.price, currency: NATIVE },
    offerCount: r.offer_count,
    usage: { licences: r.licence_count, jobs: r.job_count },
  }
}

// ---- Detail -------------------------------------------------------------------------------------------

interface IngestSummary {
  receipt?: { measurement?: string; noisyRowCount?: number; [k: string]: unknown }
  signature?: string
  signer?: string
  schema?: Array<{ name: string; type: string }>
  statistics?: unknown
}

async function publicationOf(env: IndexerBindings, chainId: number, tokenId: string) {
  const row = await env.DB.prepare(
    `SELECT owner, content_hash, ciphertext_cid, metadata_cid, tx_hash, result, updated_at FROM publications
     WHERE chain_id = ? AND token_id = ? AND status = 'minted' ORDER BY updated_at DESC LIMIT 1`,
  )
    .bind(chainId, tokenId)
    .first<{
      owner: string
      content_hash: string
      ciphertext_cid: string | null
      metadata_cid: string | null
      tx_hash: string | null
      result: string | null
      updated_at: number
    }>()
  if (!row) return null
  let result: { metadataDigest?: string; declarationCid?: string; ingest?: IngestSummary; [k: string]: unknown } = {}
  try {
    result = row.result ? JSON.parse(row.result) : {}
  } catch {
    // A malformed stored result only costs the ingest summary.
  }
  return { ...row, result }
}

type NormalizedPolicy = ReturnType<typeof normalizePolicy>

/**
 * The digest of an asset's current declaration: the indexed mint or latest amendment or, just after
 * minting, this node's publication. Undefined for an asset this node knows nothing of.
 */
export async function metadataDigestOf(env: IndexerBindings, tokenId: string): Promise<string | undefined> {
  const { chainId } = addressBook(env)
  const asset = await env.DB.prepare('SELECT metadata_digest FROM assets WHERE chain_id = ? AND token_id = ?')
    .bind(chainId, tokenId)
    .first<{ metadata_digest: string | null }>()
  return asset?.metadata_digest ?? (await publicationOf(env, chainId, tokenId))?.result.metadataDigest
}

/**
 * The privacy policy the enclave applies to an asset, with its defaults filled in, from the declaration
 * the owner signed (found through the indexed mint or, just after minting, this node's publication).
 * Null when it cannot be read now (not indexed nor published here, IPFS away) or is malformed.
 */
export async function assetPolicy(env: IndexerBindings, tokenId: string): Promise<NormalizedPolicy | null> {
  const digest = await metadataDigestOf(env, tokenId)
  const declaration = digest ? await declarationOf(env, digest) : null
  if (!declaration) return null
  try {
    return normalizePolicy(declaration.policy ?? undefined)
  } catch {
    return null
  }
}

/**
 * A freeze's reason as people read it. The supervisor gives a bytes32 (DataAssetNFT.freeze): a short
 * text right-padded with zeros (ethers `encodeBytes32String`) reads as that text; anything else (a hash,
 * a code) stays hex. Null when not frozen or no reason was given.
 * @example freezeReasonText('0x636f7572742d6f726465722d323032362d313137000000000000000000000000') // 'court-order-2026-117'
 */
function freezeReasonText(reasonCode: string | null): string | null {
  if (!reasonCode || /^0x0{64}$/.test(reasonCode)) return null
  try {
    // Control and format characters (an embedded zero, a bidi override) would not read as what they are.
    const text = decodeBytes32String(reasonCode)
    if (text.trim() && !/\p{C}/u.test(text)) return text
  } catch {
    // Not zero-terminated UTF-8: a code, shown as the hex the supervisor gave.
  }
  return reasonCode
}

export const catalog = new Hono<AppEnv>()
  .get('/', async (c) => {
    const env = c.env as IndexerBindings
    const q = parseBrowse(new URL(c.req.url))
    const { chainId, indexedBlock } = await indexedChain(env)
    // Format and policy kind are in the owner's declaration, not in D1: those filters examine candidates
    // in sort order, up to SCAN_BUDGET per request, so a page may be short; `next` continues the scan.
    const needsDeclaration = q.format !== undefined || q.policy !== undefined
    const items: ReturnType<typeof summary>[] = []
    let cursor = q.cursor
    let scanned = 0
    let next: string | null = null
    for (;;) {
      const take = needsDeclaration ? Math.min(50, SCAN_BUDGET - scanned) : q.limit + 1
      const { sql, binds } = browseSql(q, chainId, cursor, take)
      const rows = (
        await env.DB.prepare(sql)
          .bind(...binds)
          .all<Row>()
      ).results
      if (!needsDeclaration) {
        const page = rows.slice(0, q.limit)
        const decls = await Promise.all(
          page.map((r) => (r.metadata_digest ? declarationOf(env, r.metadata_digest) : null)),
        )
        page.forEach((r, i) => items.push(summary(r, chainId, decls[i])))
        if (rows.length > q.limit) next = encodeCursor(cursorOf(q.sort, page[page.length - 1]))
        break
      }
      const decls = await Promise.all(
        rows.map((r) => (r.metadata_digest ? declarationOf(env, r.metadata_digest) : null)),
      )
      let full = false
      for (let i = 0; i < rows.length && !full; i++) {
        const d = decls[i]
        scanned++
        if (q.format && d?.format !== q.format) continue
        if (q.policy && policyKind(d) !== q.policy) continue
        items.push(summary(rows[i], chainId, d))
        full = items.length === q.limit
        // More candidates may follow: continue after this one (the next page may turn out empty).
        if (full && (i < rows.length - 1 || rows.length === take)) next = encodeCursor(cursorOf(q.sort, rows[i]))
      }
      if (full) break
      if (rows.length < take) break
      cursor = cursorOf(q.sort, rows[rows.length - 1])
      if (scanned >= SCAN_BUDGET) {
        next = encodeCursor(cursor)
        break
      }
    }
    c.header('cache-control', 'no-store')
    return c.json({ chainId, indexedBlock, items, next })
  })
  .get('/:id', async (c) => {
    const env = c.env as IndexerBindings
    const tokenId = uintParam(c.req.param('id'), 'asset id', 'invalid_asset_id')
    const { chainId, indexedBlock } = await indexedChain(env)
    // Independent reads run together: each D1 query is a round trip, and this route renders every asset
    // page (its first paint is budgeted against a static page, test/e2e/site-budgets.test.ts).
    const [asset, pub, offerRows, feeRow, usage] = await Promise.all([
      env.DB.prepare(
        `SELECT a.*, m.title, m.description, m.tags, m.status AS metadata_status, m.cid AS metadata_cid
         FROM assets a LEFT JOIN asset_metadata m ON m.digest = a.metadata_digest
         WHERE a.chain_id = ? AND a.token_id = ?`,
      )
        .bind(chainId, tokenId)
        .first<Record<string, string | number | null>>(),
      publicationOf(env, chainId, tokenId),
      env.DB.prepare(
        `SELECT offer_id, owner, price, currency, duration, max_jobs, epsilon_budget_milli, purposes, withdrawn, superseded,
           set_tx, set_block, (currency = ?3 OR currency IN ${acceptedTokens('?1')}) AS currency_allowed
         FROM offers WHERE chain_id = ?1 AND token_id = ?2 ORDER BY set_block DESC, length(offer_id) DESC, offer_id DESC`,
      )
        .bind(chainId, tokenId, NATIVE)
        .all<Record<string, string | number>>()
        .then((r) => r.results),
      env.DB.prepare('SELECT fee_bps FROM market_settings WHERE chain_id = ?')
        .bind(chainId)
        .first<{ fee_bps: number | null }>(),
      env.DB.prepare(
        `SELECT (SELECT count(*) FROM receipts WHERE chain_id = ?1 AND token_id = ?2) AS receipts,
                (SELECT coalesce(sum(epsilon_spent_milli), 0) FROM receipts WHERE chain_id = ?1 AND token_id = ?2) AS eps,
                (SELECT count(*) FROM licences WHERE chain_id = ?1 AND token_id = ?2) AS licences`,
      )
        .bind(chainId, tokenId)
        .first<{ receipts: number; eps: number; licences: number }>(),
    ])
    if (!asset && !pub) notFound('asset_not_found', `No asset ${tokenId} on chain ${chainId}`)
    const digest = (asset?.metadata_digest as string | null) ?? pub?.result.metadataDigest ?? null
    const declaration = digest ? await declarationOf(env, digest) : null
    const ingest = pub?.result.ingest ?? null
    const feeBps = feeRow?.fee_bps ?? 0

    const owner = (asset?.owner as string | undefined) ?? pub!.owner
    c.header('cache-control', 'no-store')
    return c.json({
      chainId,
      tokenId,
      indexedBlock,
      // A row in `assets` means the mint is indexed; a minted publication not yet mirrored is pending.
      status: asset ? ('indexed' as const) : ('pending' as const),
      title: (asset?.title as string | null) ?? null,
      description: (asset?.description as string | null) ?? null,
      tags: asset?.tags ? (JSON.parse(asset.tags as string) as string[]) : [],
      metadataStatus: (asset?.metadata_status as string | null) ?? null,
      owner,
      contract: (asset?.contract as string | null) ?? null,
      revoked: Boolean(asset?.revoked),
      frozen: Boolean(asset?.frozen),
      freezeReason: asset?.frozen ? freezeReasonText(asset.freeze_reason as string | null) : null,
      mint: {
        txHash: (asset?.minted_tx as string | null) ?? pub?.tx_hash ?? null,
        blockNumber: (asset?.minted_block as number | null) ?? null,
        time: (asset?.minted_time as number | null) ?? null,
      },
      format: declaration?.format ?? null,
      policy: declaration ? { kind: policyKind(declaration), ...(declaration.policy ?? {}) } : null,
      lawfulBasis: declaration?.lawfulBasis ?? null,
      contentHash: (asset?.content_hash as string | null) ?? pub?.content_hash ?? null,
      metadataDigest: digest,
      cids: {
        ciphertext: declaration?.ciphertextCid ?? pub?.ciphertext_cid ?? null,
        declaration: digest ? metadataCid(digest) : null,
        metadata: pub?.metadata_cid ?? null,
      },
      sizes: { ciphertext: declaration?.ciphertextSize ?? null, plaintext: declaration?.plaintextSize ?? null },
      measurement: ingest?.receipt?.measurement ?? null,
      schema: ingest?.schema ?? null,
      rowCount: ingest?.receipt?.noisyRowCount ?? null,
      statistics: ingest?.statistics ?? null,
      ingest: ingest
        ? { signer: ingest.signer ?? null, signature: ingest.signature ?? null, receipt: ingest.receipt ?? null }
        : null,
      feeBps,
      offers: offerRows.map((o) => {
        const lapse = offerLapse(
          {
            active: !o.withdrawn,
            owner: String(o.owner),
            superseded: Boolean(o.superseded),
            currency: String(o.currency),
            currencyAllowed: Boolean(o.currency_allowed),
          },
          { owner, revoked: Boolean(asset?.revoked), frozen: Boolean(asset?.frozen) },
        )
        const price = BigInt(o.price as string)
        const fee = (price * BigInt(feeBps)) / 10_000n
        return {
          offerId: o.offer_id,
          price: o.price,
          currency: o.currency,
          // The buyer pays exactly the price; the market takes its fee out of it (DataMarket.buyLicence).
          totalCost: o.price,
          fee: fee.toString(),
          ownerReceives: (price - fee).toString(),
          durationSeconds: o.duration,
          maxJobs: o.max_jobs,
          epsilonBudgetMilli: o.epsilon_budget_milli,
          purposes: o.purposes,
          // As DataMarket.buyLicence decides it (offer-rules.ts offerLapse), at the indexed block.
          live: !lapse,
          ...(lapse ? { inactive: lapse } : {}),
          setTx: o.set_tx,
        }
      }),
      usage: { receipts: usage?.receipts ?? 0, epsilonSpentMilli: usage?.eps ?? 0, licences: usage?.licences ?? 0 },
    })
  })
