// The catalog routes inside workerd against real D1: every browse parameter validated, full-text search,
// filters, both sorts with cursor pagination over index rows inserted here, and the asset detail with the
// owner's declaration served by a stubbed IPFS (checked against the digest) and a pending publication.
import { env } from 'cloudflare:workers'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Interface } from 'ethers'
import { dataAssetNftAbi, dataMarketAbi } from '../../contracts/index'
import { app } from '../../worker/src/index'
import { contractsByAddress, decodeLog } from '../../worker/src/indexer/decode'
import { insertEvents } from '../../worker/src/indexer/indexer'

const book = { chainId: 31337, contracts: { DataAssetNFT: '0x' + '11'.repeat(20) }, deployedAtBlock: 1 }
const base = { ...env, ADDRESS_BOOK: JSON.stringify(book), IPFS_API_URL: 'http://ipfs.test' }

/**
 * A stand-in chain for what offers/build asks DataAssetNFT before a new offer (the fixtures' two assets
 * exist, live, owned by the fixtures' owners); workerd runs no EVM. The real contracts answer in test/e2e.
 */
const CHAIN = 'http://chain.test'
const nftAbi = new Interface(dataAssetNftAbi)
function assetsOnChain(body: string): Response {
  const calls = JSON.parse(body) as Array<{ id: number; params: [{ data: string }] }>
  return Response.json(
    calls.map(({ id, params: [{ data }] }) => {
      const { name } = nftAbi.parseTransaction({ data })!
      const values =
        name === 'totalMinted' ? [2] : name === 'assetInfo' ? [BOB, '0x' + 'cc'.repeat(32), false, false, 0] : undefined
      if (!values) throw new Error(`the stand-in chain does not answer ${name}`)
      return { jsonrpc: '2.0', id, result: nftAbi.encodeFunctionResult(name, values) }
    }),
  )
}
const ALICE = '0x' + 'a1'.repeat(20)
const BOB = '0x' + 'b2'.repeat(20)
const NATIVE = '0x' + '00'.repeat(20)
const ETH = 10n ** 18n

const hex = (b: ArrayBuffer) => '0x' + Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, '0')).join('')
const sha = async (bytes: Uint8Array) => hex(await crypto.subtle.digest('SHA-256', bytes))

interface Fixture {
  id: string
  title: string
  description: string
  tags: string[]
  owner: string
  format: 'csv' | 'jsonl'
  mode: 'dp' | 'aggregates-only'
  /** Live native offers, in wei. */
  prices: string[]
  revoked?: boolean
}

// Token 12 has a 20 ETH offer: more wei than a 64-bit integer holds, so price order must not use CAST.
const fixtures: Fixture[] = [
  {
    id: '1',
    title: 'Seattle weather',
    description: 'Daily weather in Seattle',
    tags: ['weather', 'climate'],
    owner: ALICE,
    format: 'csv',
    mode: 'dp',
    prices: [(ETH / 100n).toString()],
  },
  {
    id: '2',
    title: 'Cars',
    description: 'Fuel economy of cars',
    tags: ['cars'],
    owner: BOB,
    format: 'jsonl',
    mode: 'aggregates-only',
    prices: [(ETH / 10n).toString(), (ETH / 1000n).toString()],
  },
  {
    id: '3',
    title: 'US airports',
    description: 'Airports of the United States (美国机场)',
    tags: ['travel', '交通'],
    owner: ALICE,
    format: 'csv',
    mode: 'dp',
    prices: [],
  },
  {
    id: '12',
    title: 'Rainfall in Zürich',
    description: 'Hourly rain gauges',
    tags: ['weather'],
    owner: BOB,
    format: 'csv',
    mode: 'aggregates-only',
    prices: [(20n * ETH).toString()],
  },
  {
    id: '13',
    title: 'Revoked weather',
    description: 'Withdrawn by its owner',
    tags: ['weather'],
    owner: ALICE,
    format: 'csv',
    mode: 'dp',
    prices: [],
    revoked: true,
  },
]

const blocks = new Map<string, Uint8Array>()
const digests = new Map<string, string>()
const schema = [
  { name: 'date', type: 'text' },
  { name: 'temp_max', type: 'number' },
]
const statistics = {
  noisyRowCount: 1461,
  columns: [{ name: 'temp_max', type: 'number', noisyNullCount: 0, bins: [{ lo: 8, hi: 16, noisyCount: 700 }] }],
}

beforeAll(async () => {
  const db = env.DB
  const stmts: D1PreparedStatement[] = [
    'chains',
    'assets',
    'asset_metadata',
    'asset_search',
    'offers',
    'publications',
    'receipts',
    'licences',
    'market_settings',
  ].map((t) => db.prepare(`DELETE FROM ${t}`))
  stmts.push(
    db
      .prepare('INSERT INTO chains (chain_id, address_book, indexed_block, updated_at) VALUES (?, ?, ?, 0)')
      .bind(31337, JSON.stringify(book), 50),
    db.prepare('INSERT INTO market_settings (chain_id, treasury, fee_bps) VALUES (31337, ?, 250)').bind(BOB),
  )
  for (const f of fixtures) {
    const declaration = new TextEncoder().encode(
      JSON.stringify({
        name: f.title,
        description: f.description,
        stillflow: {
          format: f.format,
          tags: f.tags,
          policy: { mode: f.mode, minGroupSize: 10 },
          ciphertextCid: `bafy-ct-${f.id}`,
          ciphertextSize: 2048,
          plaintextSize: 1900,
          lawfulBasis: { basis: 'public-domain', statement: 'Published open data', personalData: false },
        },
      }),
    )
    const digest = await sha(declaration)
    digests.set(f.id, digest)
    blocks.set(digest, declaration)
    const tx = '0x' + f.id.padStart(64, 'e')
    stmts.push(
      db
        .prepare(
          `INSERT INTO assets (chain_id, token_id, contract, owner, content_hash, metadata_digest, revoked, minted_block, minted_time, minted_tx)
           VALUES (31337, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .bind(
          f.id,
          book.contracts.DataAssetNFT,
          f.owner,
          '0x' + f.id.padStart(64, 'c'),
          digest,
          f.revoked ? 1 : 0,
          Number(f.id),
          1_700_000_000 + Number(f.id),
          tx,
        ),
      db
        .prepare(
          `INSERT INTO asset_metadata (digest, cid, status, title, description, tags, attempts) VALUES (?, ?, 'ok', ?, ?, ?, 1)`,
        )
        .bind(digest, `cid-${f.id}`, f.title, f.description, JSON.stringify(f.tags)),
      ...f.prices.map((price, i) =>
        db
          .prepare(
            `INSERT INTO offers (chain_id, token_id, offer_id, owner, set_by, price, currency, duration, max_jobs, epsilon_budget_milli, purposes, withdrawn, set_tx, set_block)
             VALUES (31337, ?, ?, ?, ?, ?, ?, 2592000, 100, 10000, 1, 0, ?, ?)`,
          )
          .bind(f.id, String(i + 1), f.owner, f.owner, price, NATIVE, tx, Number(f.id)),
      ),
    )
  }
  // A withdrawn offer never counts as the asset's price.
  stmts.push(
    db
      .prepare(
        `INSERT INTO offers (chain_id, token_id, offer_id, owner, set_by, price, currency, duration, max_jobs, epsilon_budget_milli, purposes, withdrawn, set_tx, set_block)
         VALUES (31337, '3', '9', ?, ?, '1', ?, 60, 1, 1, 1, 1, ?, 3)`,
      )
      .bind(ALICE, ALICE, NATIVE, '0x' + '3'.padStart(64, 'e')),
  )
  // Asset 1 was published through this node (its ingest summary is known); asset 40 is minted, not indexed yet.
  const ingest = {
    receipt: { measurement: '0x' + 'ab'.repeat(32), noisyRowCount: 1461 },
    signature: '0x01',
    signer: BOB,
    schema,
    statistics,
  }
  for (const [token, digest] of [
    ['1', digests.get('1')],
    ['40', digests.get('1')],
  ] as const)
    stmts.push(
      db
        .prepare(
          `INSERT INTO publications (id, owner, idempotency_key, request_hash, content_hash, status, step, ciphertext_cid, metadata_cid, chain_id, token_id, tx_hash, result, created_at, updated_at)
           VALUES (?, ?, ?, 'h', ?, 'minted', 'mint', 'bafy-ct-1', 'bafy-meta', 31337, ?, ?, ?, 0, 0)`,
        )
        .bind(
          `pub-${token}`,
          ALICE,
          `k-${token}`,
          '0x' + token.padStart(64, 'c'),
          token,
          '0x' + token.padStart(64, 'e'),
          JSON.stringify({ metadataDigest: digest, ingest }),
        ),
    )
  // Use recorded on chain, for the `popular` sort: asset 2 sold two licences and ran one job, asset 12 sold one.
  const licence = (id: string, token: string, buyer: string) =>
    db
      .prepare(
        `INSERT INTO licences (chain_id, licence_id, token_id, offer_id, buyer, owner, currency, price, fee, expires_at, jobs_left, epsilon_left_milli, purchased_tx, purchased_block, purchased_time)
         VALUES (31337, ?, ?, '1', ?, ?, ?, '1000', '25', 2000000000, 10, 10000, ?, 60, 1700000060)`,
      )
      .bind(id, token, buyer, BOB, NATIVE, '0x' + id.padStart(64, 'f'))
  stmts.push(
    licence('1', '2', ALICE),
    licence('2', '2', ALICE),
    licence('3', '12', ALICE),
    db
      .prepare(
        `INSERT INTO receipts (chain_id, job_id, licence_id, token_id, enclave, content_hash, query_hash, result_hash, epsilon_spent_milli, measurement, signature, tx_hash, block_number, block_time)
         VALUES (31337, ?, '1', '2', ?, ?, ?, ?, 1000, ?, NULL, ?, 61, 1700000061)`,
      )
      .bind(
        '0x' + '77'.repeat(32),
        BOB,
        '0x' + '2'.padStart(64, 'c'),
        '0x' + '88'.repeat(32),
        '0x' + '99'.repeat(32),
        '0x' + 'ab'.repeat(32),
        '0x' + '66'.repeat(32),
      ),
  )
  await db.batch(stmts)
  // The search rows as the indexer writes them.
  const { metadataCid, refreshSearch } = await import('../../worker/src/indexer/metadata')
  await refreshSearch(
    db,
    31337,
    fixtures.map((f) => f.id),
  )
  // IPFS: `block/get` serves the declarations by the CID that names their digest.
  const byCid = new Map([...blocks].map(([d, b]) => [metadataCid(d), b]))
  const realFetch = globalThis.fetch
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.origin === CHAIN) return assetsOnChain(String(init?.body))
    if (url.origin !== 'http://ipfs.test') return realFetch(input, init)
    const bytes = byCid.get(url.searchParams.get('arg') ?? '')
    return bytes ? new Response(bytes) : new Response('not found', { status: 500 })
  })
})
afterAll(() => {
  vi.unstubAllGlobals()
})

async function get(path: string) {
  const res = await app.request(path, {}, base)
  return { status: res.status, body: (await res.json()) as any }
}
const ids = (body: { items: Array<{ tokenId: string }> }) => body.items.map((i) => i.tokenId)

describe('GET /api/assets parameters', () => {
  it.each([
    ['q=%22%22', 'invalid_q'],
    ['q=' + 'a '.repeat(9), 'invalid_q'],
    ['tag=Not_A_Tag', 'invalid_tag'],
    ['tag=cafe%CC%81', 'invalid_tag'], // é decomposed: not NFC
    ['format=xlsx', 'invalid_format'],
    ['policy=open', 'invalid_policy'],
    ['owner=0x123', 'invalid_owner'],
    ['minPrice=-1', 'invalid_min_price'],
    ['maxPrice=1.5', 'invalid_max_price'],
    ['minPrice=10&maxPrice=9', 'invalid_price_range'],
    ['sort=oldest', 'invalid_sort'],
    ['sort=popular&cursor=eyJzIjoicG9wdWxhciIsIm4iOi0xLCJ0IjoiMSJ9', 'invalid_cursor'],
    ['limit=0', 'invalid_limit'],
    ['limit=51', 'invalid_limit'],
    ['cursor=not!base64', 'invalid_cursor'],
    ['cursor=eyJzIjoibmV3ZXN0IiwidCI6IjEifQ&sort=price', 'invalid_cursor'],
    ['sort=newest&sort=price', 'invalid_sort'],
    ['colour=red', 'unknown_parameter'],
  ])('%s → 400 %s', async (query, code) => {
    const { status, body } = await get(`/api/assets?${query}`)
    expect(status).toBe(400)
    expect(body.error.code).toBe(code)
    expect(body.error.message).toBeTruthy()
  })

  it('refuses a malformed asset id and names an unknown one', async () => {
    expect((await get('/api/assets/01')).body.error.code).toBe('invalid_asset_id')
    // A huge bad value is quoted, but not sent back whole.
    const huge = await get(`/api/assets/${'x'.repeat(10_000)}`)
    expect(huge.body.error.code).toBe('invalid_asset_id')
    expect(huge.body.error.message.length).toBeLessThan(200)
    const missing = await get('/api/assets/999')
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe('asset_not_found')
  })
})

describe('GET /api/assets', () => {
  it('lists indexed, unrevoked assets newest first with their cheapest live offer', async () => {
    const { status, body } = await get('/api/assets')
    expect(status).toBe(200)
    expect(ids(body)).toEqual(['12', '3', '2', '1'])
    const cars = body.items.find((i: { tokenId: string }) => i.tokenId === '2')
    expect(cars).toMatchObject({ title: 'Cars', format: 'jsonl', policyKind: 'aggregates-only', offerCount: 2 })
    expect(cars.price).toEqual({ amount: (ETH / 1000n).toString(), currency: NATIVE })
    expect(body.items.find((i: { tokenId: string }) => i.tokenId === '3').price).toBeNull()
    expect(body.items.find((i: { tokenId: string }) => i.tokenId === '1')).toMatchObject({
      rowCount: 1461,
      columnCount: 2,
    })
  })

  it('searches title, description and tags by word prefix, accent-insensitively, ignoring FTS syntax', async () => {
    expect(ids((await get('/api/assets?q=seattle')).body)).toEqual(['1'])
    expect(ids((await get('/api/assets?q=zurich')).body)).toEqual(['12'])
    expect(ids((await get('/api/assets?q=weath')).body)).toEqual(['12', '1'])
    expect(ids((await get('/api/assets?q=fuel%20cars')).body)).toEqual(['2'])
    expect(ids((await get('/api/assets?q=cars%22*(%20-')).body)).toEqual(['2'])
    expect(ids((await get('/api/assets?q=nothing-like-this')).body)).toEqual([])
  })

  it('finds Chinese words inside longer runs of characters, in order (no spaces between words to cut at)', async () => {
    const q = async (text: string) => ids((await get(`/api/assets?q=${encodeURIComponent(text)}`)).body)
    expect(await q('机场')).toEqual(['3'])
    expect(await q('美国机场')).toEqual(['3'])
    expect(await q('airports 机场')).toEqual(['3'])
    expect(await q('场机')).toEqual([])
    expect(await q('城市')).toEqual([])
    // What a listing shows is the metadata as written, not the search table's spaced text.
    const airports = (await get('/api/assets?q=%E6%9C%BA%E5%9C%BA')).body.items[0]
    expect(airports.description).toBe('Airports of the United States (美国机场)')
  })

  it('filters by tag, owner, price range, format and policy kind', async () => {
    expect(ids((await get('/api/assets?tag=weather')).body)).toEqual(['12', '1'])
    expect(ids((await get('/api/assets?tag=weather&tag=climate')).body)).toEqual(['1'])
    expect(ids((await get(`/api/assets?tag=${encodeURIComponent('交通')}`)).body)).toEqual(['3'])
    expect(ids((await get(`/api/assets?owner=${ALICE.toUpperCase().replace('0X', '0x')}`)).body)).toEqual(['3', '1'])
    expect(ids((await get(`/api/assets?minPrice=${ETH / 100n}`)).body)).toEqual(['12', '1'])
    expect(ids((await get(`/api/assets?maxPrice=${ETH}`)).body)).toEqual(['2', '1'])
    expect(ids((await get('/api/assets?format=jsonl')).body)).toEqual(['2'])
    expect(ids((await get('/api/assets?policy=aggregates-only')).body)).toEqual(['12', '2'])
    expect(ids((await get('/api/assets?format=csv&policy=dp&q=weather')).body)).toEqual(['1'])
  })

  it('sorts by price (exact beyond 64 bits, unpriced last) and pages with an opaque cursor', async () => {
    expect(ids((await get('/api/assets?sort=price')).body)).toEqual(['2', '1', '12', '3'])
    for (const [sort, expected] of [
      ['newest', ['12', '3', '2', '1']],
      ['price', ['2', '1', '12', '3']],
    ] as const) {
      const seen: string[] = []
      let next: string | null = null
      do {
        const { body } = await get(`/api/assets?sort=${sort}&limit=1${next ? `&cursor=${next}` : ''}`)
        seen.push(...ids(body))
        next = body.next
      } while (next)
      expect(seen).toEqual(expected)
    }
    // A filter read from the declaration pages too.
    const first = (await get('/api/assets?format=csv&limit=1')).body
    expect(ids(first)).toEqual(['12'])
    expect(ids((await get(`/api/assets?format=csv&limit=2&cursor=${first.next}`)).body)).toEqual(['3', '1'])
  })
})

describe('GET /api/assets?sort=popular (the featured list)', () => {
  it('orders by licences sold plus jobs recorded, then newest, and reports that use per item', async () => {
    const { body } = await get('/api/assets?sort=popular')
    expect(ids(body)).toEqual(['2', '12', '3', '1'])
    expect(body.items[0].usage).toEqual({ licences: 2, jobs: 1 })
    expect(body.items[1].usage).toEqual({ licences: 1, jobs: 0 })
    expect(body.items[3].usage).toEqual({ licences: 0, jobs: 0 })
  })

  it('pages through ties with the cursor and combines with filters', async () => {
    const seen: string[] = []
    let next: string | null = null
    do {
      const { status, body } = await get(`/api/assets?sort=popular&limit=1${next ? `&cursor=${next}` : ''}`)
      expect(status).toBe(200)
      seen.push(...ids(body))
      next = body.next
    } while (next)
    expect(seen).toEqual(['2', '12', '3', '1'])
    expect(ids((await get('/api/assets?sort=popular&tag=weather')).body)).toEqual(['12', '1'])
    expect(ids((await get('/api/assets?sort=popular&policy=aggregates-only&limit=1')).body)).toEqual(['2'])
  })

  it('refuses a cursor of another sort', async () => {
    const first = (await get('/api/assets?sort=newest&limit=1')).body
    const { status, body } = await get(`/api/assets?sort=popular&cursor=${first.next}`)
    expect(status).toBe(400)
    expect(body.error.code).toBe('invalid_cursor')
  })
})

describe('GET /api/assets limit', () => {
  it('says the same range for a limit too small and too large', async () => {
    for (const limit of ['0', '51'])
      expect((await get(`/api/assets?limit=${limit}`)).body.error.message).toBe(
        `limit must be an integer between 1 and 50, got "${limit}"`,
      )
  })
})

describe('GET /api/assets/:id', () => {
  it('returns the public facts of an indexed asset: metadata, declaration, ingest, offers with cost', async () => {
    const { status, body } = await get('/api/assets/1')
    expect(status).toBe(200)
    expect(body).toMatchObject({
      tokenId: '1',
      status: 'indexed',
      title: 'Seattle weather',
      tags: ['weather', 'climate'],
      owner: ALICE,
      format: 'csv',
      policy: { kind: 'dp', mode: 'dp' },
      lawfulBasis: { basis: 'public-domain', personalData: false },
      contentHash: '0x' + '1'.padStart(64, 'c'),
      metadataDigest: digests.get('1'),
      cids: { ciphertext: 'bafy-ct-1', metadata: 'bafy-meta' },
      measurement: '0x' + 'ab'.repeat(32),
      schema,
      rowCount: 1461,
      statistics,
      mint: { txHash: '0x' + '1'.padStart(64, 'e'), blockNumber: 1 },
      usage: { receipts: 0, licences: 0 },
    })
    expect(body.offers).toEqual([
      expect.objectContaining({
        offerId: '1',
        price: (ETH / 100n).toString(),
        totalCost: (ETH / 100n).toString(),
        fee: ((ETH / 100n) * 250n) / 10_000n + '',
        live: true,
      }),
    ])
  })

  it('shows the offers of a frozen asset as not on sale, and takes them out of the listing’s price', async () => {
    await env.DB.prepare("UPDATE assets SET frozen = 1 WHERE token_id = '1'").run()
    try {
      const { body } = await get('/api/assets/1')
      expect(body.offers).toEqual([expect.objectContaining({ offerId: '1', live: false, inactive: 'asset_frozen' })])
      const listed = (await get('/api/assets?q=seattle')).body.items
      expect(listed).toEqual([expect.objectContaining({ tokenId: '1', frozen: true, price: null })])
    } finally {
      await env.DB.prepare("UPDATE assets SET frozen = 0 WHERE token_id = '1'").run()
    }
  })

  it('gives a frozen asset’s reason as the supervisor’s text, or as hex when it is no text', async () => {
    const hexOf = (text: string) => hex(new TextEncoder().encode(text).buffer as ArrayBuffer).padEnd(66, '0')
    const reasonOf = async (frozen: 0 | 1, reason: string | null) => {
      await env.DB.prepare("UPDATE assets SET frozen = ?, freeze_reason = ? WHERE token_id = '1'")
        .bind(frozen, reason)
        .run()
      const { status, body } = await get('/api/assets/1')
      expect(status).toBe(200)
      expect(body.frozen).toBe(frozen === 1)
      return body.freezeReason
    }
    try {
      expect(await reasonOf(1, hexOf('court-order-2026-117'))).toBe('court-order-2026-117')
      expect(hexOf('court-order-2026-117')).toMatch(/^0x636f7572742d6f72/)
      expect(await reasonOf(1, hexOf('Gerichtsbeschluss – Zürich'))).toBe('Gerichtsbeschluss – Zürich')
      // A hash, an embedded zero or control character, no zero at the end, invalid UTF-8: the hex itself.
      for (const code of [
        '0x' + 'ab'.repeat(32),
        hexOf('court\u0000order'),
        hexOf('line\nbreak'),
        '0x' + '61'.repeat(32),
        hexOf('ok').replace(/^0x6f6b/, '0xff6b'),
      ])
        expect(await reasonOf(1, code)).toBe(code)
      expect(await reasonOf(1, '0x' + '00'.repeat(32))).toBeNull()
      expect(await reasonOf(1, null)).toBeNull()
      expect(await reasonOf(0, null)).toBeNull()
    } finally {
      await env.DB.prepare("UPDATE assets SET frozen = 0, freeze_reason = NULL WHERE token_id = '1'").run()
    }
  })

  it('shows an offer set by an earlier owner as not on sale', async () => {
    await env.DB.prepare("UPDATE assets SET owner = ? WHERE token_id = '1'").bind(BOB).run()
    try {
      const { body } = await get('/api/assets/1')
      expect(body.offers).toEqual([expect.objectContaining({ offerId: '1', live: false, inactive: 'previous_owner' })])
    } finally {
      await env.DB.prepare("UPDATE assets SET owner = ? WHERE token_id = '1'").bind(ALICE).run()
    }
  })

  it('shows an offer set before the asset changed hands as not on sale, though its owner owns it again', async () => {
    await env.DB.prepare("UPDATE offers SET superseded = 1 WHERE token_id = '1'").run()
    try {
      const { body } = await get('/api/assets/1')
      expect(body.offers).toEqual([
        expect.objectContaining({ offerId: '1', live: false, inactive: 'set_before_transfer' }),
      ])
      const listed = (await get('/api/assets?q=seattle')).body.items
      expect(listed).toEqual([expect.objectContaining({ tokenId: '1', price: null })])
    } finally {
      await env.DB.prepare("UPDATE offers SET superseded = 0 WHERE token_id = '1'").run()
    }
  })

  it('tells a buyer which licences cannot run jobs, and why (the asset revoked)', async () => {
    await env.DB.prepare("UPDATE assets SET revoked = 1 WHERE token_id = '2'").run()
    try {
      const { status, body } = await get(`/api/reports/buyer/${ALICE}`)
      expect(status).toBe(200)
      const byId = Object.fromEntries(body.licences.map((l: { licenceId: string }) => [l.licenceId, l]))
      expect(byId['1']).toMatchObject({ tokenId: '2', live: false, notLive: 'asset_revoked' })
      expect(byId['3']).toMatchObject({ tokenId: '12', live: true })
      expect(byId['3']).not.toHaveProperty('notLive')
    } finally {
      await env.DB.prepare("UPDATE assets SET revoked = 0 WHERE token_id = '2'").run()
    }
  })

  it('reports a minted publication whose mint is not indexed yet as pending', async () => {
    const { status, body } = await get('/api/assets/40')
    expect(status).toBe(200)
    expect(body).toMatchObject({ tokenId: '40', status: 'pending', owner: ALICE, offers: [], schema })
  })

  it('does not shadow /history', async () => {
    const { body } = await get('/api/assets/1/history')
    expect(body).toMatchObject({ tokenId: '1', status: 'indexed', events: [] })
  })
})

describe('an offer priced in an ERC-20 the market no longer accepts', () => {
  const MARKET = '0x' + '22'.repeat(20)
  const TOKEN = '0x' + 'c0'.repeat(20)
  const OTHER = '0x' + 'c1'.repeat(20)
  const market = new Interface(dataMarketAbi)
  let block = 1000

  /** `CurrencyAllowed` as the indexer stores it: the log decoded by the indexer's decoder, inserted by it. */
  async function currencyAllowed(currency: string, allowed: boolean) {
    block++
    const { data, topics } = market.encodeEventLog('CurrencyAllowed', [currency, allowed])
    const hash = '0x' + block.toString(16).padStart(64, 'd')
    const log = {
      address: MARKET,
      topics,
      data,
      blockNumber: '0x' + block.toString(16),
      blockHash: hash,
      transactionHash: hash,
      logIndex: '0x0',
    }
    const event = decodeLog(31337, contractsByAddress({ DataMarket: MARKET }), log, 1_700_001_000 + block)
    expect(event).toMatchObject({ contract: 'DataMarket', name: 'CurrencyAllowed' })
    await insertEvents(env.DB, [event]).run()
  }

  beforeAll(async () => {
    // Asset 1 also sells for 5 units of TOKEN (offer 2) and 7 of OTHER (offer 3), both allowed when set.
    await env.DB.batch([
      env.DB.prepare(
        "DELETE FROM events WHERE chain_id = 31337 AND contract = 'DataMarket' AND name = 'CurrencyAllowed'",
      ),
      ...[
        ['2', '5', TOKEN],
        ['3', '7', OTHER],
      ].map(([offerId, price, currency]) =>
        env.DB.prepare(
          `INSERT INTO offers (chain_id, token_id, offer_id, owner, set_by, price, currency, duration, max_jobs, epsilon_budget_milli, purposes, withdrawn, set_tx, set_block)
           VALUES (31337, '1', ?, ?, ?, ?, ?, 86400, 5, 1000, 1, 0, ?, 1)`,
        ).bind(offerId, ALICE, ALICE, price, currency, '0x' + offerId.padStart(64, '7')),
      ),
    ])
    await currencyAllowed(TOKEN, true)
    await currencyAllowed(OTHER, true)
  })
  afterAll(async () => {
    await env.DB.batch([
      env.DB.prepare("DELETE FROM offers WHERE chain_id = 31337 AND token_id = '1' AND offer_id IN ('2', '3')"),
      env.DB.prepare(
        "DELETE FROM events WHERE chain_id = 31337 AND contract = 'DataMarket' AND name = 'CurrencyAllowed'",
      ),
    ])
  })

  const offersOf1 = async () =>
    Object.fromEntries(
      ((await get('/api/assets/1')).body.offers as Array<{ offerId: string }>).map((o) => [o.offerId, o]),
    )
  const listed1 = async () => (await get('/api/assets?q=seattle')).body.items[0]

  it('sells while the token is accepted', async () => {
    const offers = await offersOf1()
    for (const id of ['1', '2', '3']) expect(offers[id]).toMatchObject({ live: true })
    expect(offers['2']).not.toHaveProperty('inactive')
    expect(await listed1()).toMatchObject({ tokenId: '1', offerCount: 3 })
  })

  it('does not sell once the admin disallows the token (the latest CurrencyAllowed wins), native offers untouched', async () => {
    await currencyAllowed(TOKEN, false)
    const offers = await offersOf1()
    expect(offers['2']).toMatchObject({ live: false, inactive: 'currency_not_allowed', currency: TOKEN })
    expect(offers['3']).toMatchObject({ live: true })
    expect(offers['1']).toMatchObject({ live: true, currency: NATIVE })
    const listed = await listed1()
    expect(listed).toMatchObject({ offerCount: 2, price: { amount: (ETH / 100n).toString(), currency: NATIVE } })

    await currencyAllowed(TOKEN, true)
    expect((await offersOf1())['2']).toMatchObject({ live: true })
    expect(await listed1()).toMatchObject({ offerCount: 3 })
  })

  it('gives the reasons in buyLicence’s order: a frozen asset before a disallowed token', async () => {
    await currencyAllowed(OTHER, false)
    await env.DB.prepare("UPDATE assets SET frozen = 1 WHERE token_id = '1'").run()
    try {
      expect((await offersOf1())['3']).toMatchObject({ live: false, inactive: 'asset_frozen' })
    } finally {
      await env.DB.prepare("UPDATE assets SET frozen = 0 WHERE token_id = '1'").run()
    }
    expect((await offersOf1())['3']).toMatchObject({ live: false, inactive: 'currency_not_allowed' })
  })
})

describe('POST /api/offers/build against the asset’s privacy policy', () => {
  const build = (tokenId: string, epsilonBudgetMilli: string) =>
    app.request(
      '/api/offers/build',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          action: 'set',
          tokenId,
          terms: { price: '1000', durationSeconds: 86400, maxJobs: 5, epsilonBudgetMilli },
        }),
      },
      {
        ...base,
        CHAIN_RPC_URL: CHAIN,
        ADDRESS_BOOK: JSON.stringify({ ...book, contracts: { ...book.contracts, DataMarket: '0x' + '22'.repeat(20) } }),
      },
    )

  it('refuses an ε budget that could not pay for one query on a differentially private asset', async () => {
    const res = await build('1', '500')
    expect(res.status).toBe(422)
    const body = (await res.json()) as { error: { code: string; message: string; epsilonPerQueryMilli: number } }
    expect(body.error).toMatchObject({ code: 'offer_budget_below_query_cost', epsilonPerQueryMilli: 1000 })
    expect(body.error.message).toMatch(/spends ε 1 per query, so a licence with an ε budget of 0.5 could never run one/)
    expect((await build('1', '1000')).status).toBe(200)
  })

  it('takes an ε budget of 0 on an aggregates-only asset, whose queries spend no ε', async () => {
    expect((await build('2', '0')).status).toBe(200)
  })
})
