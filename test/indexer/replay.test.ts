// The indexer against a real hardhat node: incremental indexing over several runs and ranges, a full
// reindex from genesis that yields the same rows (R46), idempotence, and a reorganisation rolled back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  as,
  bindings,
  DERIVED_TABLES,
  indexer,
  enclaveKey,
  buy,
  deployWorld,
  dump,
  ETH,
  mined,
  mint,
  offer,
  recordJob,
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

beforeAll(async () => {
  ;[chain, d] = await Promise.all([startChain(), startDb()])
  w = await deployWorld(chain)
}, 120_000)
afterAll(async () => {
  await d?.dispose()
  await chain?.stop()
})

const { indexNow, reindex, replayDerived } = indexer
const TABLES = ['events', ...DERIVED_TABLES]
const snapshot = async () => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await dump(d.db, t)])))

describe('indexNow', () => {
  it('mirrors every event, in ranges, and derives assets, offers, licences, receipts and payments', async () => {
    const env = bindings(w, d.db, { INDEXER_RANGE_BLOCKS: '3' })
    const first = await indexNow(env)
    expect(first.caughtUp).toBe(true)
    expect(first.ranges).toBeGreaterThan(1)

    const a = await mint(w, w.owner, 'a')
    const b = await mint(w, w.other, 'b')
    const offerA = await offer(w, w.owner, a.tokenId)
    const licence = await buy(w, w.buyer, a.tokenId, offerA)
    const job = await recordJob(w, licence, a.contentHash, 'a1', 700)
    await mined(as(w.nft, w.owner).amend(a.tokenId, word('metadata a v2'), 'typo in title'))
    await mined(as(w.nft, w.supervisor).freeze(b.tokenId, word('reason')))
    const run = await indexNow(env)
    expect(run).toMatchObject({ caughtUp: true, reorgs: 0, contended: false })
    expect(run.events).toBeGreaterThanOrEqual(10)

    const asset = await d.db.prepare('SELECT * FROM assets WHERE token_id = ?').bind(a.tokenId.toString()).first()
    expect(asset).toMatchObject({
      owner: w.owner.address.toLowerCase(),
      content_hash: a.contentHash,
      metadata_digest: word('metadata a v2'),
      amendment_count: 1,
      revoked: 0,
      frozen: 0,
      minted_tx: a.receipt.hash,
    })
    expect(
      await d.db.prepare('SELECT frozen FROM assets WHERE token_id = ?').bind(b.tokenId.toString()).first(),
    ).toEqual({ frozen: 1 })
    expect(
      await d.db
        .prepare('SELECT jobs_left, epsilon_left_milli, buyer FROM licences WHERE licence_id = ?')
        .bind(licence.toString())
        .first(),
    ).toEqual({
      jobs_left: 2,
      epsilon_left_milli: 1300,
      buyer: w.buyer.address.toLowerCase(),
    })
    expect(
      await d.db.prepare('SELECT signature, token_id, enclave FROM receipts WHERE job_id = ?').bind(job.jobId).first(),
    ).toEqual({
      signature: job.signature.toLowerCase(),
      token_id: a.tokenId.toString(),
      enclave: enclaveKey.address.toLowerCase(),
    })
    const pay = (await d.db.prepare('SELECT account, kind, amount FROM payments ORDER BY kind').all()).results
    expect(pay).toEqual([
      { account: w.treasury.address.toLowerCase(), kind: 'fee', amount: (ETH / 40n).toString() },
      { account: w.owner.address.toLowerCase(), kind: 'sale', amount: ((ETH * 39n) / 40n).toString() },
    ])
  })

  it('writes nothing twice when run again with nothing new', async () => {
    const env = bindings(w, d.db)
    const before = await snapshot()
    const run = await indexNow(env)
    expect(run).toMatchObject({ events: 0, ranges: 0, caughtUp: true })
    expect(await snapshot()).toEqual(before)
  })

  it('applies a range once when two indexers race for the same cursor', async () => {
    const env = bindings(w, d.db)
    const m = await mint(w, w.owner, 'raced')
    const runs = await Promise.all([indexNow(env), indexNow(env), indexNow(env)])
    expect(runs.reduce((n, r) => n + r.events, 0)).toBe(m.receipt.logs.length)
    expect(runs.some((r) => r.contended)).toBe(true)
    const n = await d.db.prepare('SELECT COUNT(*) AS n FROM events WHERE tx_hash = ?').bind(m.receipt.hash).first()
    expect(n).toEqual({ n: m.receipt.logs.length })
    expect(await d.db.prepare('SELECT COUNT(*) AS n FROM indexer_guard').first()).toEqual({ n: 0 })
  })

  it('waits for INDEXER_CONFIRMATIONS before indexing a block', async () => {
    const c = await mint(w, w.owner, 'c')
    const env = bindings(w, d.db, { INDEXER_CONFIRMATIONS: '2' })
    await indexNow(env)
    expect(await d.db.prepare('SELECT 1 FROM assets WHERE token_id = ?').bind(c.tokenId.toString()).first()).toBeNull()
    await mined(w.owner.sendTransaction({ to: w.other.address, value: 1n }))
    await mined(w.owner.sendTransaction({ to: w.other.address, value: 1n }))
    await indexNow(env)
    expect(
      await d.db.prepare('SELECT 1 AS x FROM assets WHERE token_id = ?').bind(c.tokenId.toString()).first(),
    ).toEqual({ x: 1 })
  })
})

describe('a reorganisation', () => {
  it('is rolled back and the new branch applied', async () => {
    const env = bindings(w, d.db)
    await indexNow(env)
    const snap = (await chain.provider.send('evm_snapshot', [])) as string
    const lost = await mint(w, w.owner, 'lost in reorg')
    await indexNow(env)
    expect(
      await d.db.prepare('SELECT 1 AS x FROM assets WHERE token_id = ?').bind(lost.tokenId.toString()).first(),
    ).toEqual({ x: 1 })

    // Same height, different blocks: the snapshot revert plus other transactions is a reorg to the node.
    await chain.provider.send('evm_revert', [snap])
    await mined(w.other.sendTransaction({ to: w.owner.address, value: 5n }))
    const kept = await mint(w, w.other, 'kept after reorg')
    await mined(w.other.sendTransaction({ to: w.owner.address, value: 5n }))
    expect(kept.tokenId).toBe(lost.tokenId)

    const run = await indexNow(env)
    expect(run.reorgs).toBe(1)
    const row = await d.db
      .prepare('SELECT owner, content_hash FROM assets WHERE token_id = ?')
      .bind(kept.tokenId.toString())
      .first()
    expect(row).toEqual({ owner: w.other.address.toLowerCase(), content_hash: kept.contentHash })
    const lostEvents = await d.db
      .prepare('SELECT COUNT(*) AS n FROM events WHERE tx_hash = ?')
      .bind(lost.receipt.hash)
      .first()
    expect(lostEvents).toEqual({ n: 0 })
  })
})

describe('offers and changes of hands', () => {
  it('retires the offers set before a transfer for good, and a reorg that undoes the transfer revives them', async () => {
    const env = bindings(w, d.db)
    // Minted to `other`, as the last token is in the reindex test below, which sells and transfers it.
    const a = await mint(w, w.other, 'offers outlive no transfer')
    const early = await offer(w, w.other, a.tokenId)
    await indexNow(env)
    const superseded = async (offerId: bigint) =>
      (
        await d.db
          .prepare('SELECT superseded FROM offers WHERE token_id = ? AND offer_id = ?')
          .bind(a.tokenId.toString(), offerId.toString())
          .first<{ superseded: number }>()
      )?.superseded
    expect(await superseded(early)).toBe(0)

    const snap = (await chain.provider.send('evm_snapshot', [])) as string
    await mined(as(w.nft, w.other).transferFrom(w.other.address, w.owner.address, a.tokenId))
    await mined(as(w.nft, w.owner).transferFrom(w.owner.address, w.other.address, a.tokenId))
    const late = await offer(w, w.other, a.tokenId)
    await indexNow(env)
    // The same account owns it again, yet only the offer set since sells — as the contract decides.
    expect(await superseded(early)).toBe(1)
    expect(await superseded(late)).toBe(0)
    await expect(as(w.market, w.buyer).buyLicence(a.tokenId, early, { value: ETH })).rejects.toThrow()

    await chain.provider.send('evm_revert', [snap])
    for (let i = 0; i < 4; i++) await mined(w.owner.sendTransaction({ to: w.other.address, value: 5n }))
    expect((await indexNow(env)).reorgs).toBe(1)
    expect(await superseded(early)).toBe(0)
    expect(await superseded(late)).toBeUndefined()
  })
})

describe('reindex from genesis (R46)', () => {
  it('rebuilds the same rows as the incremental index, row for row', async () => {
    // More history after the reorg, so the incremental state has seen every kind of event.
    const env = bindings(w, d.db, { INDEXER_RANGE_BLOCKS: '4' })
    const t = (await w.nft.totalMinted()) as bigint
    const o = await offer(w, w.other, t, ETH / 2n)
    await buy(w, w.buyer, t, o, ETH / 2n)
    await mined(as(w.nft, w.other).transferFrom(w.other.address, w.owner.address, t))
    await mined(as(w.market, w.owner).withdraw('0x0000000000000000000000000000000000000000'))
    await mined(as(w.market, w.owner).withdrawOffer(1n, 1n))
    await mined(as(w.nft, w.owner).revoke(1n))
    await indexNow(env)
    const incremental = await snapshot()
    expect(incremental.events.length).toBeGreaterThan(30)

    const run = await reindex(bindings(w, d.db, { INDEXER_RANGE_BLOCKS: '1000' }))
    expect(run.caughtUp).toBe(true)
    expect(await snapshot()).toEqual(incremental)

    await replayDerived(d.db, w.book.chainId)
    expect(await snapshot()).toEqual(incremental)
  })
})
