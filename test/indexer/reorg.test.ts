// A reorganisation deep in a long history is undone in scope: only the derived rows the lost blocks wrote
// (and the new branch writes) change, every other asset's rows are not written at all, and the result is
// the same mirror a reindex from genesis builds (R46). SQLite triggers record every row the indexer writes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  as,
  bindings,
  buy,
  DERIVED_TABLES,
  deployWorld,
  dump,
  indexer,
  mined,
  mint,
  offer,
  recordJob,
  recordWrites,
  startChain,
  startDb,
  word,
  type Chain,
  type Db,
  type World,
} from './support'

let chain: Chain
let d: Db
let w: World
let history: Array<Awaited<ReturnType<typeof mint>> & { licence: bigint }> = []

beforeAll(async () => {
  ;[chain, d] = await Promise.all([startChain(), startDb()])
  w = await deployWorld(chain)
}, 120_000)
afterAll(async () => {
  await d?.dispose()
  await chain?.stop()
})

describe('a reorganisation deep in a long history', () => {
  it('rewrites only the rows of the assets the lost and the new blocks touch, and equals a reindex', async () => {
    const env = bindings(w, d.db, { INDEXER_RANGE_BLOCKS: '50' })
    // The long history: twelve assets, each with an offer, a licence and a recorded job.
    const assets = history
    for (let i = 0; i < 12; i++) {
      const a = await mint(w, i % 2 ? w.owner : w.other, `history ${i}`)
      const o = await offer(w, i % 2 ? w.owner : w.other, a.tokenId)
      const l = await buy(w, w.buyer, a.tokenId, o)
      await recordJob(w, l, a.contentHash, `history ${i}`)
      assets.push({ ...a, licence: l })
    }
    await indexer.indexNow(env)
    const x = assets[3]
    const z = assets[8]
    const before = await dump(d.db, 'assets')

    // The branch that will be lost: another job on x's licence, an amendment of x, and a new asset y.
    const snap = (await chain.provider.send('evm_snapshot', [])) as string
    await recordJob(w, x.licence, x.contentHash, 'lost job')
    await mined(as(w.nft, w.owner).amend(x.tokenId, word('lost amendment'), 'lost'))
    const y = await mint(w, w.owner, 'lost asset')
    await indexer.indexNow(env)
    expect(
      await d.db.prepare('SELECT amendment_count FROM assets WHERE token_id = ?').bind(x.tokenId.toString()).first(),
    ).toEqual({ amendment_count: 1 })

    // The canonical branch, longer than the lost one: z is amended instead.
    await chain.provider.send('evm_revert', [snap])
    await mined(as(w.nft, w.other).amend(z.tokenId, word('kept amendment'), 'kept'))
    for (let i = 0; i < 4; i++) await mined(w.other.sendTransaction({ to: w.owner.address, value: 1n }))

    await recordWrites(d.db)
    const run = await indexer.indexNow(env)
    expect(run.reorgs).toBe(1)

    const written = (
      await d.db
        .prepare('SELECT DISTINCT tbl, token FROM touch_log ORDER BY tbl, token')
        .all<{ tbl: string; token: string }>()
    ).results
    const tokens = new Set(written.map((r) => r.token))
    // x's rows were rebuilt (its lost job and amendment undone), y's deleted, z's amended; nothing else.
    expect([...tokens].sort()).toEqual([x.tokenId, y.tokenId, z.tokenId].map(String).sort())
    expect(written.map((r) => r.tbl)).toContain('licences')
    expect(written.map((r) => r.tbl)).toContain('receipts')

    const after = await dump(d.db, 'assets')
    const untouched = (rows: unknown[]) =>
      rows.filter((r) => ![x, y, z].some((a) => JSON.parse(r as string).token_id === a.tokenId.toString()))
    expect(untouched(after)).toEqual(untouched(before))
    expect(
      await d.db
        .prepare('SELECT amendment_count, metadata_digest FROM assets WHERE token_id = ?')
        .bind(x.tokenId.toString())
        .first(),
    ).toEqual({ amendment_count: 0, metadata_digest: word(`metadata history 3`) })
    expect(
      await d.db.prepare('SELECT jobs_left FROM licences WHERE licence_id = ?').bind(x.licence.toString()).first(),
    ).toEqual({ jobs_left: 2 })
    expect(await d.db.prepare('SELECT 1 FROM assets WHERE token_id = ?').bind(y.tokenId.toString()).first()).toBeNull()
    expect(
      await d.db.prepare('SELECT amendment_count FROM assets WHERE token_id = ?').bind(z.tokenId.toString()).first(),
    ).toEqual({ amendment_count: 1 })

    // The scoped rollback leaves the mirror a reindex from genesis builds, row for row (R46).
    const fresh = await startDb()
    try {
      await indexer.reindex(bindings(w, fresh.db, { INDEXER_RANGE_BLOCKS: '1000' }))
      for (const t of ['events', ...DERIVED_TABLES]) expect(await dump(d.db, t), t).toEqual(await dump(fresh.db, t))
    } finally {
      await fresh.dispose()
    }
  })

  it('is undone in chunks under the replaying marker when it is too big for one batch, to the same rows', async () => {
    // Two statements a batch: every rollback here takes the chunked path.
    const env = bindings(w, d.db, { INDEXER_RANGE_BLOCKS: '50', INDEXER_ROLLBACK_BATCH: '2' })
    await indexer.indexNow(env)
    const snap = (await chain.provider.send('evm_snapshot', [])) as string
    const [p, q] = [history[5], history[6]]
    await mined(as(w.nft, w.owner).amend(p.tokenId, word('lost again'), 'lost'))
    await recordJob(w, q.licence, q.contentHash, 'lost job 2')
    await mined(as(w.nft, w.supervisor).freeze(q.tokenId, word('lost freeze')))
    await indexer.indexNow(env)
    await chain.provider.send('evm_revert', [snap])
    for (let i = 0; i < 5; i++) await mined(w.other.sendTransaction({ to: w.owner.address, value: 1n }))

    const run = await indexer.indexNow(env)
    expect(run).toMatchObject({ reorgs: 1, caughtUp: true, contended: false })
    const cursor = await d.db.prepare('SELECT indexed_block AS b FROM chains').first<{ b: number }>()
    expect(cursor!.b).toBe(run.indexedBlock)
    expect(cursor!.b).toBeGreaterThan(0)
    const fresh = await startDb()
    try {
      await indexer.reindex(bindings(w, fresh.db, { INDEXER_RANGE_BLOCKS: '1000' }))
      for (const t of ['events', ...DERIVED_TABLES]) expect(await dump(d.db, t), t).toEqual(await dump(fresh.db, t))
    } finally {
      await fresh.dispose()
    }
  })
})
