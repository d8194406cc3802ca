// The indexer's routes and cron handler inside workerd, against real D1: parameter validation, the
// ledger export over stored events (its Merkle root recomputed here), and a scheduled run whose chain is
// unreachable failing without writing. Chain-backed behaviour is in test/indexer (a real hardhat node).
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import worker, { app } from '../../worker/src/index'
import { ledgerLine, merkleRootOf } from '../../worker/src/indexer/ledger'

const book = { chainId: 31337, contracts: { DataAssetNFT: '0x' + '11'.repeat(20) }, deployedAtBlock: 1 }
const base = { ...env, CHAIN_RPC_URL: 'http://127.0.0.1:9', ADDRESS_BOOK: JSON.stringify(book), ADMIN_TOKEN: 'secret' }
const event = (n: number) => ({
  chainId: 31337,
  blockNumber: 1 + Math.floor(n / 2),
  blockHash: '0x' + String(n).padStart(64, '0'),
  blockTime: 1_700_000_000 + n,
  txHash: '0x' + String(n).padStart(64, 'f'),
  logIndex: n % 2,
  address: book.contracts.DataAssetNFT,
  contract: 'DataAssetNFT',
  name: 'MetadataUpdate',
  args: `{"_tokenId":"${n}"}`,
  detail: null,
})
const stored = Array.from({ length: 7 }, (_, i) => event(i))

beforeAll(async () => {
  await env.DB.batch([
    env.DB.prepare('DELETE FROM events'),
    env.DB.prepare('DELETE FROM chains'),
    env.DB.prepare('INSERT INTO chains (chain_id, address_book, indexed_block, updated_at) VALUES (?, ?, ?, 0)').bind(
      31337,
      JSON.stringify(book),
      4,
    ),
    ...stored.map((e) =>
      env.DB.prepare(
        'INSERT INTO events (chain_id, block_number, block_hash, block_time, tx_hash, log_index, address, contract, name, args, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).bind(
        e.chainId,
        e.blockNumber,
        e.blockHash,
        e.blockTime,
        e.txHash,
        e.logIndex,
        e.address,
        e.contract,
        e.name,
        e.args,
        e.detail,
      ),
    ),
  ])
})

async function call(path: string, init: RequestInit = {}) {
  const res = await app.request(path, init, base)
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') }
}

describe('GET /api/audit/enclaves', () => {
  it('lists measurements and enclave keys, saying which are still registered and approved', async () => {
    const [approved, retired] = ['0x' + 'a1'.repeat(32), '0x' + 'b2'.repeat(32)]
    const supervisor = '0x' + '33'.repeat(20)
    const [live, removed, onRetired] = ['0x' + '44'.repeat(20), '0x' + '55'.repeat(20), '0x' + '66'.repeat(20)]
    await env.DB.batch([
      env.DB.prepare('DELETE FROM measurements'),
      env.DB.prepare('DELETE FROM enclaves'),
      env.DB.prepare(
        'INSERT INTO measurements (chain_id, measurement, approved, changed_by, changed_block) VALUES (31337, ?, 1, ?, 1), (31337, ?, 0, ?, 3)',
      ).bind(approved, supervisor, retired, supervisor),
      env.DB.prepare(
        `INSERT INTO enclaves (chain_id, signer, measurement, cluster_public_key, registered_block, active)
         VALUES (31337, ?, ?, ?, 2, 1), (31337, ?, ?, ?, 2, 0), (31337, ?, ?, ?, 1, 1)`,
      ).bind(
        live,
        approved,
        '0x' + '01'.repeat(32),
        removed,
        approved,
        '0x' + '02'.repeat(32),
        onRetired,
        retired,
        '0x' + '03'.repeat(32),
      ),
    ])
    const { status, text } = await call('/api/audit/enclaves')
    expect(status).toBe(200)
    const body = JSON.parse(text)
    expect(body).toMatchObject({ chainId: 31337, asOfBlock: 4 })
    expect(body.measurements).toEqual([
      { measurement: retired, approved: false, changedBy: supervisor, changedBlock: 3 },
      { measurement: approved, approved: true, changedBy: supervisor, changedBlock: 1 },
    ])
    const bySigner = Object.fromEntries(body.enclaves.map((e: { signer: string }) => [e.signer, e]))
    expect(bySigner[live]).toMatchObject({ registered: true, measurementApproved: true })
    expect(bySigner[removed]).toMatchObject({ registered: false, measurementApproved: true })
    expect(bySigner[onRetired]).toMatchObject({ registered: true, measurementApproved: false })
  })
})

describe('GET /api/audit/export', () => {
  it('streams the stored events in order, then the RFC 6962 root of those lines', async () => {
    const { status, text, type } = await call('/api/audit/export')
    expect(status).toBe(200)
    expect(type).toMatch(/^application\/x-ndjson/)
    const lines = text.trimEnd().split('\n')
    const summary = JSON.parse(lines.pop()!)
    expect(lines).toEqual(stored.map(ledgerLine))
    expect(summary).toEqual({
      chainId: 31337,
      toBlock: 4,
      leafCount: 7,
      merkleRoot: merkleRootOf(lines),
      tree: 'RFC6962-SHA256',
    })
  })

  it('cuts the ledger at toBlock, and the root endpoint agrees', async () => {
    const { text } = await call('/api/audit/export?toBlock=2')
    const lines = text.trimEnd().split('\n')
    const summary = JSON.parse(lines.pop()!)
    expect(lines).toEqual(stored.slice(0, 4).map(ledgerLine))
    const root = JSON.parse((await call('/api/audit/root?toBlock=2')).text)
    expect(root).toMatchObject({ merkleRoot: summary.merkleRoot, leafCount: 4, anchors: [] })
  })

  it.each([
    ['/api/audit/export?toBlock=5', 409, 'not_indexed_yet'],
    ['/api/audit/export?toBlock=x', 400, 'invalid_to_block'],
    ['/api/audit/root?toBlock=1.5', 400, 'invalid_to_block'],
    ['/api/audit/events/0xzz/1', 400, 'invalid_hash'],
    [`/api/audit/events/0x${'0'.repeat(64)}/x`, 400, 'invalid_log_index'],
    [`/api/audit/events/0x${'0'.repeat(64)}/0`, 404, 'event_not_found'],
    ['/api/assets/0x1/history', 400, 'invalid_asset_id'],
    ['/api/assets/5/graph', 404, 'asset_not_found'],
    ['/api/reports/owner/nobody', 400, 'invalid_address'],
  ])('%s → %i %s', async (path, status, code) => {
    const res = await call(path)
    expect(res.status).toBe(status)
    expect(JSON.parse(res.text)).toEqual({ error: { code, message: expect.any(String) } })
  })

  it('serves one stored event as its ledger line', async () => {
    const res = await call(`/api/audit/events/${stored[3].txHash}/${stored[3].logIndex}`)
    expect(res).toMatchObject({ status: 200, text: ledgerLine(stored[3]) + '\n' })
    // JSON, so a browser following a transaction link shows it instead of downloading a file.
    expect(res.type).toBe('application/json; charset=utf-8')
  })
})

describe('POST /api/audit/reindex', () => {
  it('refuses a request without the admin token and writes nothing', async () => {
    const res = await call('/api/audit/reindex', { method: 'POST', headers: { authorization: 'Bearer nope' } })
    expect(res.status).toBe(401)
    expect(JSON.parse(res.text).error.code).toBe('unauthorized')
    expect(await env.DB.prepare('SELECT COUNT(*) AS n FROM events').first()).toEqual({ n: 7 })
  })
})

describe('the scheduled handler', () => {
  it('is exported, and a run whose chain is unreachable reports the step and writes nothing', async () => {
    expect(typeof worker.scheduled).toBe('function')
    const { runScheduled } = await import('../../worker/src/indexer')
    const report = await runScheduled(base, Date.now())
    expect(report.errors).toEqual([expect.stringMatching(/^index: the chain RPC is not reachable \(/)])
    expect(await env.DB.prepare('SELECT indexed_block FROM chains').first()).toEqual({ indexed_block: 4 })
  })
})

describe('index status', () => {
  const publication = (id: string, tokenId: string | null, status: string) =>
    env.DB.prepare(
      `INSERT INTO publications (id, owner, idempotency_key, request_hash, content_hash, status, step, chain_id, token_id, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'mint', 31337, ?, 0, 0)`,
    ).bind(id, '0x' + '22'.repeat(20), id, '0x' + id.padStart(64, '0'), '0x' + id.padStart(64, '1'), status, tokenId)

  it('shows an asset the worker minted but the indexer has not mirrored as pending, and a failed publish as failed', async () => {
    await env.DB.batch([publication('a1', '41', 'minted'), publication('a2', '42', 'failed')])
    const pending = JSON.parse((await call('/api/assets/41/history')).text)
    expect(pending).toMatchObject({ tokenId: '41', status: 'pending', events: [] })
    const failed = JSON.parse((await call('/api/assets/42/history')).text)
    expect(failed).toMatchObject({ tokenId: '42', status: 'failed', events: [] })
    expect((await call('/api/assets/43/history')).status).toBe(404)
  })

  it('shows a job pending until its receipt is mirrored, indexed after, and failed when it failed', async () => {
    const { jobIndexStatus } = await import('../../worker/src/indexer')
    const jobId = '0x' + 'ab'.repeat(32)
    const job = { jobId, chainId: 31337 }
    expect(await jobIndexStatus(base, { ...job, status: 'running' })).toBe('pending')
    expect(await jobIndexStatus(base, { ...job, status: 'succeeded' })).toBe('pending')
    expect(await jobIndexStatus(base, { ...job, status: 'expired' })).toBe('failed')
    await env.DB.prepare(
      `INSERT INTO receipts (chain_id, job_id, licence_id, token_id, enclave, content_hash, query_hash, result_hash,
         epsilon_spent_milli, measurement, signature, tx_hash, block_number, block_time)
       VALUES (31337, ?, '1', '1', ?, ?, ?, ?, 500, ?, NULL, ?, 3, 0)`,
    )
      .bind(jobId, '0x' + '33'.repeat(20), jobId, jobId, jobId, jobId, jobId)
      .run()
    expect(await jobIndexStatus(base, { ...job, status: 'succeeded' })).toBe('indexed')
  })
})
