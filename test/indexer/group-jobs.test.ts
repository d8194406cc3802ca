// Jobs across assets of several owners (issue 6, R67) in the chain mirror: one recordGroupReceipt on a real
// hardhat node becomes one receipt row per part, so each licence and each asset sees its own part in
// its history, its graph and its owner's report; the group job reads as indexed; a replay and a reindex
// rebuild the same rows (R46); a reorganisation that loses a group job undoes exactly its rows; and the
// independent checker verifies the group receipt's enclave signature and names a tampered line.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { auditLedger } from '../../scripts/audit'
import { merkleRootOf } from '../../worker/src/indexer/ledger'
import {
  app,
  bindings,
  buy,
  DERIVED_TABLES,
  deployWorld,
  dump,
  enclaveKey,
  ETH,
  indexer,
  mint,
  offer,
  recordGroupJob,
  recordJob,
  recordWrites,
  startChain,
  startDb,
  type Chain,
  type Db,
  type IndexerBindings,
  type World,
} from './support'

let chain: Chain
let d: Db
let w: World
let env: IndexerBindings
let a: Awaited<ReturnType<typeof mint>>
let b: Awaited<ReturnType<typeof mint>>
let la: bigint
let lb: bigint
let group: Awaited<ReturnType<typeof recordGroupJob>>

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Body = any
const get = async (path: string): Promise<{ status: number; body: Body; text: string }> => {
  const res = await app.request(path, {}, env)
  const text = await res.text()
  let body: Body = text
  try {
    body = JSON.parse(text)
  } catch {
    // NDJSON stays text
  }
  return { status: res.status, body, text }
}
const TABLES = ['events', ...DERIVED_TABLES]
const snapshot = async () => Object.fromEntries(await Promise.all(TABLES.map(async (t) => [t, await dump(d.db, t)])))

beforeAll(async () => {
  ;[chain, d] = await Promise.all([startChain(), startDb()])
  w = await deployWorld(chain)
  env = bindings(w, d.db, { INDEXER_RANGE_BLOCKS: '3' })
  // Two assets of two owners, one buyer holding a licence on each.
  a = await mint(w, w.owner, 'group a')
  b = await mint(w, w.other, 'group b')
  la = await buy(w, w.buyer, a.tokenId, await offer(w, w.owner, a.tokenId, ETH), ETH)
  lb = await buy(w, w.buyer, b.tokenId, await offer(w, w.other, b.tokenId, ETH / 2n), ETH / 2n)
  group = await recordGroupJob(
    w,
    [
      { licenceId: la, contentHash: a.contentHash, epsilonSpentMilli: 300 },
      { licenceId: lb, contentHash: b.contentHash, epsilonSpentMilli: 450 },
    ],
    'across a and b',
  )
  await indexer.indexNow(env)
}, 180_000)
afterAll(async () => {
  await d?.dispose()
  await chain?.stop()
})

describe('a group receipt in the mirror', () => {
  it('derives one receipt row per part, each on its own licence and asset, with the enclave signature', async () => {
    const { results } = await d.db
      .prepare(
        'SELECT job_id, part, part_count, licence_id, token_id, enclave, content_hash, query_hash, result_hash, epsilon_spent_milli, measurement, signature, tx_hash FROM receipts ORDER BY part',
      )
      .all()
    const common = {
      job_id: group.jobId,
      part_count: 2,
      enclave: enclaveKey.address.toLowerCase(),
      query_hash: group.queryHash,
      result_hash: group.resultHash,
      measurement: group.measurement,
      signature: group.signature.toLowerCase(),
      tx_hash: group.txHash,
    }
    expect(results).toEqual([
      {
        ...common,
        part: 0,
        licence_id: la.toString(),
        token_id: a.tokenId.toString(),
        content_hash: a.contentHash,
        epsilon_spent_milli: 300,
      },
      {
        ...common,
        part: 1,
        licence_id: lb.toString(),
        token_id: b.tokenId.toString(),
        content_hash: b.contentHash,
        epsilon_spent_milli: 450,
      },
    ])
    // Each licence was charged its own part (DataMarket.LicenceConsumed per part).
    const licences = await d.db
      .prepare('SELECT licence_id, jobs_left, epsilon_left_milli FROM licences ORDER BY licence_id')
      .all()
    expect(licences.results).toEqual([
      { licence_id: la.toString(), jobs_left: 2, epsilon_left_milli: 1_700 },
      { licence_id: lb.toString(), jobs_left: 2, epsilon_left_milli: 1_550 },
    ])
  })

  it('reports the group job indexed once its GroupJobRecorded is mirrored, and pending before', async () => {
    const status = (jobId: string) =>
      indexer.jobIndexStatus(env, { jobId, chainId: w.book.chainId, status: 'succeeded' })
    expect(await status(group.jobId)).toBe('indexed')
    expect(await status('0x' + 'ab'.repeat(32))).toBe('pending')
  })
})

describe('history, graph and owner report', () => {
  it('shows each asset its own part and the group receipt, not the other asset’s part', async () => {
    const kinds = async (tokenId: bigint) => {
      const res = await get(`/api/assets/${tokenId}/history`)
      expect(res.status).toBe(200)
      return (res.body.events as Array<{ kind: string; args: Record<string, string> }>)
        .filter((e) => e.kind === 'job-part' || e.kind === 'group-job')
        .map((e) =>
          e.kind === 'job-part' ? `part ${e.args.part} of licence ${e.args.licenceId}` : `group of ${e.args.partCount}`,
        )
    }
    expect(await kinds(a.tokenId)).toEqual([`part 0 of licence ${la}`, 'group of 2'])
    expect(await kinds(b.tokenId)).toEqual([`part 1 of licence ${lb}`, 'group of 2'])
  })

  it('links licence —ran→ job —receipt→ receipt for the asset’s part', async () => {
    const { status, body } = await get(`/api/assets/${b.tokenId}/graph`)
    expect(status).toBe(200)
    const job = `job:${group.jobId}`
    const receipt = `receipt:${group.jobId}:1`
    expect(body.edges).toEqual(
      expect.arrayContaining([
        { from: `licence:${lb}`, to: job, relation: 'ran' },
        { from: job, to: receipt, relation: 'receipt', txHash: group.txHash },
      ]),
    )
    expect(body.nodes.find((n: { id: string }) => n.id === receipt)).toMatchObject({
      type: 'receipt',
      part: 1,
      partCount: 2,
      licenceId: lb.toString(),
      contentHash: b.contentHash,
      epsilonSpentMilli: 450,
      enclave: enclaveKey.address.toLowerCase(),
    })
    // Asset b's graph holds no receipt of asset a's part.
    expect(body.nodes.some((n: { id: string }) => n.id === `receipt:${group.jobId}:0`)).toBe(false)
  })

  it('gives each owner a usage line for the part run on their data, linked to its events', async () => {
    for (const [owner, licence, tokenId, part, eps] of [
      [w.owner, la, a.tokenId, 0, 300],
      [w.other, lb, b.tokenId, 1, 450],
    ] as const) {
      const { status, body } = await get(`/api/reports/owner/${owner.address}`)
      expect(status).toBe(200)
      expect(body.usage).toEqual([
        expect.objectContaining({
          jobId: group.jobId,
          part,
          partCount: 2,
          licenceId: licence.toString(),
          tokenId: tokenId.toString(),
          epsilonSpentMilli: eps,
        }),
      ])
      expect(body.assets).toEqual([expect.objectContaining({ tokenId: tokenId.toString(), jobs: 1 })])
      const line = body.usage[0]
      const partEvent = await get(line.evidence.href)
      expect(partEvent.body).toMatchObject({
        event: 'JobPartRecorded',
        args: { part: String(part), licenceId: licence.toString() },
      })
      const groupEvent = await get(line.groupEvidence.href)
      expect(groupEvent.body).toMatchObject({ event: 'GroupJobRecorded', args: { jobId: group.jobId, partCount: '2' } })
      expect(body.reconciled).toBe(true)
    }
  })

  it('lists a buyer’s group job with its parts', async () => {
    // The worker's own job row for the group job (what POST /api/jobs writes for a job across assets).
    const now = Math.floor(Date.now() / 1000)
    await d.db.batch([
      d.db
        .prepare(
          `INSERT INTO compute_jobs (job_id, chain_id, buyer, licence_id, token_id, content_hash, query_hash, query, result_public_key,
             nonce, deadline, signature, ciphertext_cid, origin, status, epsilon_spent_milli, result_hash, receipt_tx, created_at, updated_at, finished_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, 'SELECT 1', 'pk', 'n1', ?, '0x', 'cid', 'http://x', 'succeeded', 750, ?, ?, ?, ?, ?)`,
        )
        .bind(
          group.jobId,
          w.book.chainId,
          w.buyer.address.toLowerCase(),
          la.toString(),
          a.tokenId.toString(),
          a.contentHash,
          group.queryHash,
          now + 600,
          group.resultHash,
          group.txHash,
          now,
          now,
          now,
        ),
      ...[
        [0, la, a, 300],
        [1, lb, b, 450],
      ].map(([part, licence, asset, eps]) =>
        d.db
          .prepare(
            `INSERT INTO compute_job_parts (job_id, part, chain_id, licence_id, token_id, content_hash, table_name, ciphertext_cid, epsilon_spent_milli)
             VALUES (?, ?, ?, ?, ?, ?, 'data', 'cid', ?)`,
          )
          .bind(
            group.jobId,
            part,
            w.book.chainId,
            String(licence),
            String((asset as typeof a).tokenId),
            (asset as typeof a).contentHash,
            eps,
          ),
      ),
    ])
    const { status, body } = await get(`/api/reports/buyer/${w.buyer.address}`)
    expect(status).toBe(200)
    expect(body.jobs).toEqual([
      expect.objectContaining({
        jobId: group.jobId,
        parts: [
          { licenceId: la.toString(), tokenId: a.tokenId.toString(), epsilonSpentMilli: 300 },
          { licenceId: lb.toString(), tokenId: b.tokenId.toString(), epsilonSpentMilli: 450 },
        ],
      }),
    ])
  })
})

describe('the independent checker', () => {
  it('verifies the group receipt’s enclave signature over every part', async () => {
    const { text } = await get('/api/audit/export')
    const result = await auditLedger({ rpc: chain.url, exportText: text, contracts: w.book.contracts })
    expect(result).toMatchObject({ ok: true, receipts: 1 })
  })

  it('names a tampered part and a tampered group line', async () => {
    const { text } = await get('/api/audit/export')
    const lines = text.trimEnd().split('\n')
    const summary = JSON.parse(lines.pop()!)
    // A part's ε, the group's result hash, and the enclave signature kept as the group line's evidence.
    const sig = group.signature.toLowerCase()
    const otherSig = sig.slice(0, -2) + (sig.endsWith('1b') ? '1c' : '1b')
    for (const [event, field, tamper] of [
      ['JobPartRecorded', 'args', (l: string) => l.replace(/"epsilonSpentMilli":"450"/, '"epsilonSpentMilli":"45"')],
      ['GroupJobRecorded', 'args', (l: string) => l.replace(group.resultHash, `0x${'00'.repeat(32)}`)],
      ['GroupJobRecorded', 'detail', (l: string) => l.replace(sig, otherSig)],
    ] as const) {
      const i = lines.findIndex((l) => l.includes(`"event":"${event}"`) && tamper(l) !== l)
      expect(i).toBeGreaterThanOrEqual(0)
      const tampered = [...lines]
      tampered[i] = tamper(tampered[i])
      const forged = [...tampered, JSON.stringify({ ...summary, merkleRoot: merkleRootOf(tampered) })].join('\n')
      const out = await auditLedger({ rpc: chain.url, exportText: forged })
      expect(out).toEqual({
        ok: false,
        discrepancy: expect.stringMatching(
          new RegExp(`^line ${i + 1} .*${event}.* differs from the chain in \`${field}\``),
        ),
      })
    }
  })
})

describe('replay and reorganisation (R46)', () => {
  it('rebuilds the same rows from the events as the incremental index', async () => {
    await recordJob(w, la, a.contentHash, 'single after group', 100)
    await indexer.indexNow(env)
    const incremental = await snapshot()
    expect(incremental.receipts).toHaveLength(3)
    await indexer.replayDerived(d.db, w.book.chainId)
    expect(await snapshot()).toEqual(incremental)
    await indexer.reindex(bindings(w, d.db, { INDEXER_RANGE_BLOCKS: '1000' }))
    expect(await snapshot()).toEqual(incremental)
  })

  it('undoes a lost group job’s rows only, to what a reindex gives', async () => {
    // A third asset with its own job: the rollback must not write any of its rows.
    const c = await mint(w, w.owner, 'group c')
    const lc = await buy(w, w.buyer, c.tokenId, await offer(w, w.owner, c.tokenId, ETH), ETH)
    await recordJob(w, lc, c.contentHash, 'single on c', 100)
    await indexer.indexNow(env)
    const before = await snapshot()
    const snap = (await chain.provider.send('evm_snapshot', [])) as string
    const lost = await recordGroupJob(
      w,
      [
        { licenceId: lb, contentHash: b.contentHash, epsilonSpentMilli: 200 },
        { licenceId: la, contentHash: a.contentHash, epsilonSpentMilli: 100 },
      ],
      'lost in reorg',
    )
    await indexer.indexNow(env)
    const during = await d.db
      .prepare('SELECT part, licence_id FROM receipts WHERE job_id = ? ORDER BY part')
      .bind(lost.jobId)
      .all()
    expect(during.results).toEqual([
      { part: 0, licence_id: lb.toString() },
      { part: 1, licence_id: la.toString() },
    ])
    expect(await indexer.jobIndexStatus(env, { jobId: lost.jobId, chainId: w.book.chainId, status: 'succeeded' })).toBe(
      'indexed',
    )

    // Same height, different blocks: the revert plus other transactions is a reorganisation to the node.
    await chain.provider.send('evm_revert', [snap])
    for (let i = 0; i < 3; i++) await (await w.other.sendTransaction({ to: w.owner.address, value: 5n })).wait()
    // SQLite triggers record the asset of every row the rollback writes.
    await recordWrites(d.db)
    const run = await indexer.indexNow(env)
    expect(run.reorgs).toBe(1)
    const written = (
      await d.db
        .prepare('SELECT DISTINCT tbl, token FROM touch_log ORDER BY tbl, token')
        .all<{ tbl: string; token: string }>()
    ).results
    expect(written).toEqual(
      expect.arrayContaining([
        { tbl: 'receipts', token: a.tokenId.toString() },
        { tbl: 'receipts', token: b.tokenId.toString() },
        { tbl: 'licences', token: a.tokenId.toString() },
        { tbl: 'licences', token: b.tokenId.toString() },
      ]),
    )
    expect([...new Set(written.map((r) => r.token))].sort()).toEqual([a.tokenId, b.tokenId].map(String).sort())
    const after = await snapshot()
    // The lost job's receipts are gone, the licences it charged are back, every other row is as before.
    for (const t of DERIVED_TABLES) expect(after[t], t).toEqual(before[t])
    expect(await indexer.jobIndexStatus(env, { jobId: lost.jobId, chainId: w.book.chainId, status: 'succeeded' })).toBe(
      'pending',
    )
    await indexer.reindex(bindings(w, d.db, { INDEXER_RANGE_BLOCKS: '1000' }))
    expect(await snapshot()).toEqual(after)
  })
})
