// The read API and the independent checker against a real chain: history, graph, the owner report
// reconciled with DataMarket to the wei, the ledger export with its Merkle root, anchoring in
// LedgerAnchor, and `npm run audit` catching a tampered export and a relayer made supervisor elsewhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Wallet } from 'ethers'
import { auditLedger, describeAudit } from '../../scripts/audit'
import { startTestNode, type TestNode } from '../ipfs/support/node'
import { merkleRootOf } from '../../worker/src/indexer/ledger'
import { deployStillflow, ROLES } from '../../contracts/index'
import {
  app,
  as,
  bindings,
  buy,
  deployWorld,
  enclaveKey,
  ETH,
  indexer,
  MEASUREMENT,
  mined,
  mint,
  offer,
  recordJob,
  startChain,
  startDb,
  vendorKey,
  word,
  type Chain,
  type Db,
  type IndexerBindings,
  type World,
} from './support'

let chain: Chain
let ipfs: TestNode
let d: Db
let w: World
let env: IndexerBindings
let a: Awaited<ReturnType<typeof mint>>
let licence: bigint
let job: Awaited<ReturnType<typeof recordJob>>
let metadataDigest: string
// Every contract of the book, in the order they were deployed (and granted their roles).
const CONTRACTS = ['DataAssetNFT', 'EnclaveRegistry', 'DataMarket', 'ComputeLedger', 'LedgerAnchor']
// hardhat's account #2 (the relayer of deployWorld): anchors are sent with its key.
const RELAYER_KEY = '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a'

const get = async (path: string, init: RequestInit = {}, e: IndexerBindings = env) => {
  const res = await app.request(path, init, e)
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // NDJSON and plain bodies stay text
  }
  return { status: res.status, body: body as Record<string, unknown> & Array<unknown>, text, headers: res.headers }
}

beforeAll(async () => {
  ;[chain, d, ipfs] = await Promise.all([startChain(), startDb(), startTestNode()])
  w = await deployWorld(chain)
  expect(new Wallet(RELAYER_KEY).address).toBe(w.relayer.address)
  // LedgerAnchor as deployStillflow deploys it (its optional fifth step), on the same roles.
  const anchorBook = await deployStillflow(w.deployer, {
    admin: w.admin.address,
    relayer: w.relayer.address,
    supervisor: w.supervisor.address,
    treasury: w.treasury.address,
    vendorRoot: vendorKey.address,
    platformFeeBps: 250,
    ledgerAnchor: true,
  })
  w.book.contracts.LedgerAnchor = anchorBook.contracts.LedgerAnchor
  env = bindings(w, d.db, {
    RELAYER_KEY,
    ANCHOR_EVERY_BLOCKS: '1',
    ADMIN_TOKEN: 'test-admin-token',
    IPFS_API_URL: ipfs.apiUrl,
  })

  // Asset a's metadata is on IPFS as one raw block (as the publish flow stores it); b's is not.
  const metadata = new TextEncoder().encode(
    JSON.stringify({
      name: 'Harbour footfall 2025',
      description: 'Hourly counts',
      stillflow: { tags: ['mobility', 'ports'] },
    }),
  )
  const added = await ipfs.client.add(metadata, { cidVersion: 1, rawLeaves: true })
  metadataDigest = '0x' + Buffer.from(added.cid.multihash.digest).toString('hex')
  a = await mint(w, w.owner, 'report a', metadataDigest)
  const b = await mint(w, w.owner, 'report b')
  const oa = await offer(w, w.owner, a.tokenId, ETH)
  const ob = await offer(w, w.owner, b.tokenId, 3n * 10n ** 17n + 7n) // an odd price: the fee rounds down
  licence = await buy(w, w.buyer, a.tokenId, oa, ETH)
  await buy(w, w.other, b.tokenId, ob, 3n * 10n ** 17n + 7n)
  job = await recordJob(w, licence, a.contentHash, 'report job')
  await mined(as(w.market, w.owner).withdraw('0x0000000000000000000000000000000000000000'))
  await buy(w, w.buyer, a.tokenId, oa, ETH)
  await mined(as(w.nft, w.owner).transferFrom(w.owner.address, w.other.address, b.tokenId))
  await indexer.indexNow(env)
}, 180_000)
afterAll(async () => {
  await d?.dispose()
  await chain?.stop()
  await ipfs?.destroy()
})

describe('GET /api/assets/:id/history', () => {
  it('lists mint, offer, licence, job and transfers in chain order with transaction hashes', async () => {
    const { status, body } = await get(`/api/assets/${a.tokenId}/history`)
    expect(status).toBe(200)
    const events = body.events as Array<{
      kind: string
      txHash: string
      blockNumber: number
      logIndex: number
      args: Record<string, string>
    }>
    expect(events.map((e) => e.kind)).toEqual([
      'transfer',
      'mint',
      'offer',
      'licence',
      'licence-consumed',
      'job',
      'licence',
    ])
    expect(events[1]).toMatchObject({
      txHash: a.receipt.hash,
      args: { tokenId: a.tokenId.toString(), contentHash: a.contentHash },
    })
    expect(events[5].args.jobId).toBe(job.jobId)
    const order = events.map((e) => e.blockNumber * 1e6 + e.logIndex)
    expect(order).toEqual([...order].sort((x, y) => x - y))
    expect(body).toMatchObject({ tokenId: a.tokenId.toString(), status: 'indexed', next: null })
  })

  it('pages with a cursor', async () => {
    const first = await get(`/api/assets/${a.tokenId}/history?limit=4`)
    expect((first.body.events as unknown[]).length).toBe(4)
    const second = await get(`/api/assets/${a.tokenId}/history?limit=4&after=${first.body.next}`)
    expect((second.body.events as Array<{ kind: string }>).map((e) => e.kind)).toEqual(
      ['job', 'licence'].length ? ['licence-consumed', 'job', 'licence'] : [],
    )
    expect(second.body.next).toBeNull()
  })

  it.each([
    ['/api/assets/abc/history', 400, 'invalid_asset_id'],
    ['/api/assets/01/history', 400, 'invalid_asset_id'],
    [`/api/assets/${2n ** 256n}/history`, 400, 'invalid_asset_id'],
    ['/api/assets/1/history?limit=0', 400, 'invalid_limit'],
    ['/api/assets/1/history?limit=501', 400, 'invalid_limit'],
    ['/api/assets/1/history?after=x', 400, 'invalid_cursor'],
    ['/api/assets/999/history', 404, 'asset_not_found'],
    ['/api/assets/999/graph', 404, 'asset_not_found'],
    ['/api/assets/-1/graph', 400, 'invalid_asset_id'],
  ])('%s → %i %s', async (path, status, code) => {
    const res = await get(path)
    expect(res.status).toBe(status)
    expect(res.body).toEqual({ error: { code, message: expect.any(String) } })
  })
})

describe('GET /api/assets/:id/graph', () => {
  it('links owner → asset → licence → job → receipt, with the hashes of each', async () => {
    const { status, body } = await get(`/api/assets/${a.tokenId}/graph`)
    expect(status).toBe(200)
    const edges = (body.edges as Array<{ from: string; to: string; relation: string }>).map(
      (e) => `${e.from} -${e.relation}-> ${e.to}`,
    )
    const owner = w.owner.address.toLowerCase()
    expect(edges).toContain(`account:${owner} -owns-> asset:${a.tokenId}`)
    expect(edges).toContain(`asset:${a.tokenId} -licensed-> licence:${licence}`)
    expect(edges).toContain(`account:${w.buyer.address.toLowerCase()} -holds-> licence:${licence}`)
    expect(edges).toContain(`licence:${licence} -ran-> job:${job.jobId}`)
    expect(edges).toContain(`job:${job.jobId} -receipt-> receipt:${job.jobId}`)
    const nodes = body.nodes as Array<Record<string, unknown>>
    expect(nodes.find((n) => n.type === 'asset')).toMatchObject({
      contentHash: a.contentHash,
      metadataDigest,
      metadataCid: expect.stringMatching(/^bafkrei/),
    })
    expect(nodes.find((n) => n.type === 'receipt')).toMatchObject({
      enclave: enclaveKey.address.toLowerCase(),
      resultHash: job.resultHash,
      signature: job.signature.toLowerCase(),
    })
  })
})

describe('GET /api/reports/owner/:address', () => {
  it('reconciles the owner’s balance with DataMarket to the wei, every line linked to its event', async () => {
    const owner = w.owner.address.toLowerCase()
    const { status, body } = await get(`/api/reports/owner/${w.owner.address}`)
    expect(status).toBe(200)
    const bOdd = 3n * 10n ** 17n + 7n
    const net = (p: bigint) => p - (p * 250n) / 10_000n
    const onChain = (await w.market.pendingWithdrawal(owner, '0x0000000000000000000000000000000000000000')) as bigint
    expect(onChain).toBe(net(ETH)) // the second sale of asset a, after the withdrawal
    expect(body.balances).toEqual([
      {
        currency: '0x0000000000000000000000000000000000000000',
        earned: (2n * net(ETH) + net(bOdd)).toString(),
        fees: '0',
        withdrawn: (net(ETH) + net(bOdd)).toString(),
        balance: onChain.toString(),
        onChainBalance: onChain.toString(),
        reconciled: true,
      },
    ])
    expect(body.reconciled).toBe(true)
    expect((body.sales as unknown[]).length).toBe(3)
    expect((body.usage as Array<{ jobId: string }>).map((u) => u.jobId)).toEqual([job.jobId])
    // Each line's evidence is the event behind it, served by the ledger.
    for (const line of [
      ...(body.sales as Array<{ evidence: { href: string; txHash: string } }>),
      ...(body.ledger as Array<{ evidence: { href: string; txHash: string } }>),
    ]) {
      const ev = await get(line.evidence.href)
      expect(ev.status).toBe(200)
      expect(JSON.parse(ev.text).txHash).toBe(line.evidence.txHash)
    }
  })

  it('answers 400 for a malformed address and 404 for an address with no activity', async () => {
    expect((await get('/api/reports/owner/0x123')).body).toEqual({
      error: { code: 'invalid_address', message: expect.any(String) },
    })
    const unknown = await get(`/api/reports/owner/${Wallet.createRandom().address}`)
    expect(unknown.status).toBe(404)
    expect((unknown.body as unknown as { error: { code: string } }).error.code).toBe('owner_not_found')
  })
})

describe('GET /api/audit/export and npm run audit', () => {
  it('streams every event as a canonical line, then the RFC 6962 root, and anchors that root on chain', async () => {
    const res = await get('/api/audit/export')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/application\/x-ndjson/)
    const lines = res.text.trimEnd().split('\n')
    const summary = JSON.parse(lines.pop()!)
    const count = (await d.db.prepare('SELECT COUNT(*) AS n FROM events').first<{ n: number }>())!.n
    expect(summary).toEqual({
      chainId: 31337,
      toBlock: expect.any(Number),
      leafCount: count,
      merkleRoot: merkleRootOf(lines),
      tree: 'RFC6962-SHA256',
    })
    expect((await get('/api/audit/root')).body).toMatchObject({ merkleRoot: summary.merkleRoot, leafCount: count })

    const run = await indexer.runScheduled(env, 1_000_000)
    expect(run.errors).toEqual([])
    expect(run.anchor).toMatchObject({ anchored: true })
    await indexer.indexNow(env)
    const anchored = await d.db.prepare('SELECT merkle_root, leaf_count, to_block FROM anchors').all()
    expect(anchored.results).toEqual([
      { merkle_root: summary.merkleRoot, leaf_count: count, to_block: summary.toBlock },
    ])
  })

  it('passes the checker when the export matches the chain', async () => {
    const { text } = await get('/api/audit/export')
    const result = await auditLedger({ rpc: chain.url, exportText: text, contracts: w.book.contracts })
    expect(result).toMatchObject({ ok: true, receipts: 1, anchors: 1 })
    if (!result.ok) return
    // Approved by EnclaveRegistry's constructor: its event names the deployer, which holds no role at all.
    expect(result.measurements).toEqual([
      {
        measurement: MEASUREMENT,
        changes: [
          { action: 'approved', by: 'deployment', blockNumber: expect.any(Number), txHash: expect.any(String) },
        ],
      },
    ])
    const lower = (s: { address: string }) => s.address.toLowerCase()
    expect(result.roles).toEqual(
      expect.arrayContaining([
        { account: lower(w.relayer), role: 'RELAYER_ROLE', contracts: [...CONTRACTS] },
        { account: lower(w.supervisor), role: 'SUPERVISOR_ROLE', contracts: [...CONTRACTS] },
        { account: lower(w.admin), role: 'DEFAULT_ADMIN_ROLE', contracts: [...CONTRACTS] },
      ]),
    )
    expect(result.roles.some((r) => r.account === lower(w.deployer))).toBe(false)
    const lines = describeAudit(result)
    expect(lines[0]).toBe(
      `measurement ${MEASUREMENT}: approved at deployment, by EnclaveRegistry's constructor (block ${result.measurements[0].changes[0].blockNumber})`,
    )
    expect(lines).toContain(`${lower(w.relayer)} holds RELAYER_ROLE on ${CONTRACTS.join(', ')}`)
  })

  it('names a tampered line, with the root left as it was or recomputed over the tampered lines', async () => {
    const { text } = await get('/api/audit/export')
    const lines = text.trimEnd().split('\n')
    const summary = JSON.parse(lines.pop()!)
    const i = lines.findIndex((l) => l.includes('"event":"LicencePurchased"'))
    const tampered = [...lines]
    tampered[i] = tampered[i].replace(/"price":"(\d+)"/, (_, p) => `"price":"${BigInt(p) - 1n}"`)
    const naive = await auditLedger({ rpc: chain.url, exportText: [...tampered, JSON.stringify(summary)].join('\n') })
    expect(naive).toEqual({
      ok: false,
      discrepancy: expect.stringMatching(new RegExp(`^Merkle root mismatch: .*; line ${i + 1} .*LicencePurchased`)),
    })

    const forged = [...tampered, JSON.stringify({ ...summary, merkleRoot: merkleRootOf(tampered) })].join('\n')
    const careful = await auditLedger({ rpc: chain.url, exportText: forged })
    expect(careful.ok).toBe(false)
    expect(careful).toMatchObject({
      discrepancy: expect.stringMatching(
        new RegExp(`^line ${i + 1} .*LicencePurchased.* differs from the chain in \`args\``),
      ),
    })
  })

  it('names an omitted event', async () => {
    const { text } = await get('/api/audit/export')
    const lines = text.trimEnd().split('\n')
    const summary = JSON.parse(lines.pop()!)
    const kept = lines.filter((l) => !l.includes('"event":"JobRecorded"'))
    const out = await auditLedger({
      rpc: chain.url,
      exportText: [
        ...kept,
        JSON.stringify({ ...summary, leafCount: kept.length, merkleRoot: merkleRootOf(kept) }),
      ].join('\n'),
    })
    expect(out.ok).toBe(false)
    expect((out as { discrepancy: string }).discrepancy).toMatch(/differs from the chain|omits the chain's event/)
  })

  it('refuses a toBlock that is not indexed yet, and an unknown event', async () => {
    const res = await get('/api/audit/export?toBlock=999999')
    expect(res.status).toBe(409)
    expect(res.body).toEqual({ error: { code: 'not_indexed_yet', message: expect.any(String) } })
    expect((await get('/api/audit/export?toBlock=-1')).body).toEqual({
      error: { code: 'invalid_to_block', message: expect.any(String) },
    })
    expect((await get(`/api/audit/events/${word('x')}/0`)).status).toBe(404)
    expect((await get('/api/audit/events/0x12/0')).body).toEqual({
      error: { code: 'invalid_hash', message: expect.any(String) },
    })
  })
})

describe('asset metadata', () => {
  it('is fetched from IPFS by the digest the chain anchors, checked, and searchable; a missing block is retried', async () => {
    await indexer.runScheduled(env, 2_000_000)
    const rows = (await d.db.prepare('SELECT digest, status, title, tags FROM asset_metadata ORDER BY status').all())
      .results
    expect(rows).toEqual([
      { digest: word('metadata report b'), status: 'missing', title: null, tags: null },
      { digest: metadataDigest, status: 'ok', title: 'Harbour footfall 2025', tags: '["mobility","ports"]' },
    ])
    const hits = await d.db.prepare("SELECT token_id FROM asset_search WHERE asset_search MATCH 'ports'").all()
    expect(hits.results).toEqual([{ token_id: a.tokenId.toString() }])
    // The owner's dashboard names the asset by its title once the metadata is read.
    const report = await get(`/api/reports/owner/${w.owner.address}`)
    expect(report.body.assets as Array<{ tokenId: string; title: string | null }>).toContainEqual(
      expect.objectContaining({ tokenId: a.tokenId.toString(), title: 'Harbour footfall 2025' }),
    )

    const missing = "SELECT attempts, retry_at FROM asset_metadata WHERE status = 'missing'"
    const before = (await d.db.prepare(missing).first<{ attempts: number; retry_at: number }>())!
    await indexer.runScheduled(env, (before.retry_at - 1) * 1000) // not due yet
    expect(await d.db.prepare(missing).first()).toEqual(before)
    await indexer.runScheduled(env, before.retry_at * 1000)
    expect(await d.db.prepare(missing).first()).toEqual({
      attempts: before.attempts + 1,
      retry_at: before.retry_at + 30 * 2 ** before.attempts, // exponential back-off
    })
  })
})

describe('POST /api/audit/reindex', () => {
  it('needs the admin token, then rebuilds the same rows', async () => {
    const before = (await d.db.prepare('SELECT * FROM licences ORDER BY licence_id').all()).results
    expect((await get('/api/audit/reindex', { method: 'POST' })).status).toBe(401)
    expect(
      (await get('/api/audit/reindex', { method: 'POST', headers: { authorization: 'Bearer wrong' } })).body,
    ).toEqual({
      error: { code: 'unauthorized', message: expect.any(String) },
    })
    const off = await get('/api/audit/reindex', { method: 'POST' }, { ...env, ADMIN_TOKEN: undefined })
    expect(off.body).toEqual({ error: { code: 'admin_disabled', message: expect.any(String) } })
    const res = await get('/api/audit/reindex', {
      method: 'POST',
      headers: { authorization: 'Bearer test-admin-token' },
    })
    expect(res.status).toBe(202)
    expect(res.body).toMatchObject({ reset: true, caughtUp: true })
    expect((await d.db.prepare('SELECT * FROM licences ORDER BY licence_id').all()).results).toEqual(before)
  })
})

describe('npm run audit and the roles across the deployment’s contracts (R21–R22)', () => {
  it('fails when the relayer is made supervisor on another contract, naming account, roles and contracts, and still after it is undone', async () => {
    const relayer = w.relayer.address.toLowerCase()
    const registry = as(w.registry, w.admin)
    // Each contract refuses both roles on one account only within itself: revoke RELAYER_ROLE where the
    // relayer has no use for it, and EnclaveRegistry lets the admin make it supervisor there.
    await mined(registry.revokeRole(ROLES.relayer, w.relayer.address))
    await mined(registry.grantRole(ROLES.supervisor, w.relayer.address))
    expect(await w.ledger.hasRole(ROLES.relayer, w.relayer.address)).toBe(true)
    await indexer.indexNow(env)
    const clash = new RegExp(
      `^line \\d+ \\(EnclaveRegistry\\.RoleGranted, tx 0x[0-9a-f]{64}\\): account ${relayer} was granted SUPERVISOR_ROLE on EnclaveRegistry ` +
        `while it holds RELAYER_ROLE on DataAssetNFT, DataMarket, ComputeLedger, LedgerAnchor: ` +
        'the relayer and the supervisor must never be one account on any of the deployment’s contracts \\(R21–R22\\)$',
    )
    const audit = async () =>
      auditLedger({
        rpc: chain.url,
        exportText: (await get('/api/audit/export')).text,
        contracts: w.book.contracts,
      })
    expect(await audit()).toEqual({ ok: false, discrepancy: expect.stringMatching(clash) })

    // Undone: the ledger still shows the time one account both kept the books and supervised them.
    await mined(registry.revokeRole(ROLES.supervisor, w.relayer.address))
    await mined(registry.grantRole(ROLES.relayer, w.relayer.address))
    await indexer.indexNow(env)
    expect(await audit()).toEqual({ ok: false, discrepancy: expect.stringMatching(clash) })
  })
})
