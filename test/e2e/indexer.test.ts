// The indexer end to end against the processes `npm start` runs (issue 8): a publish through the client
// library turns pending → indexed in the API by the relayer's nudge alone (the cron is held off), an offer
// set by the owner's own wallet appears once the scheduled run indexes it, a compute job turns indexed
// through the nudge after the relayer records its receipt, `npm run reindex` against the
// live stack rebuilds D1 row for row, `npm run audit` passes the live export and names a tampered line,
// and the root the worker anchors in LedgerAnchor is the export's root.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Contract, JsonRpcProvider, parseEther } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dataMarketAbi, ledgerAnchorAbi } from '../../contracts/index'
import { ApiClient, buildSetOffer, sendBuilt } from '../../sdk/src/index'
import { cliRunner } from '../support/cli'
import { devWallet, freePorts, startStack, type Stack } from '../../scripts/stack'

const root = process.cwd()
const OWNER = 13
const BUYER = 14
const CSV = ['city,pop', ...Array.from({ length: 50 }, (_, i) => `c${i},${1000 + i * 37}`)].join('\n') + '\n'
/** The mirror's tables, compared row for row across a reindex (indexed_blocks is the cursor's own bookkeeping). */
const MIRROR = ['events', 'assets', 'offers', 'licences', 'receipts', 'enclaves'].concat([
  'measurements',
  'market_settings',
  'payments',
  'anchors',
])

interface Run {
  code: number
  stdout: string
  stderr: string
}
const run = (cmd: string, args: string[]): Promise<Run> =>
  promisify(execFile)(cmd, args, { cwd: root, maxBuffer: 1 << 26 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: Run) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  )
const tsx = (script: string, args: string[]) => run(join(root, 'node_modules', '.bin', 'tsx'), [script, ...args])

/** Polls `probe` until it returns a value, for at most `ms`. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await probe()
    if (v !== undefined) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

describe('the indexer on the live stack', () => {
  let stack: Stack
  let dataDir: string
  let provider: JsonRpcProvider
  let api: ApiClient
  let tokenId: string
  let mintTx: string
  let offerTx: string

  const cli = (args: string[]) => cliRunner(root, () => stack, join(dataDir, 'cli'))(args)
  const cliJson = async (args: string[]) => {
    const res = await cli([...args, '--json'])
    expect(res.code, res.stderr).toBe(0)
    return JSON.parse(res.stdout)
  }
  const get = async <T>(path: string) => {
    const res = await fetch(`${stack.urls.api}${path}`)
    return { status: res.status, body: (await res.json()) as T }
  }
  /**
   * Starts one run of the worker's scheduled handler (index, metadata, anchor), as `npm start`'s timer
   * does; the run goes on in the handler's waitUntil after this returns.
   */
  const scheduled = async () => {
    const res = await fetch(`${stack.urls.site}__scheduled?cron=*+*+*+*+*`)
    await res.body?.cancel()
    expect(res.ok).toBe(true)
  }
  /** Every row of the mirror, read from the worker's D1 by wrangler (not through the worker). */
  const mirror = async () => {
    const sql = MIRROR.map((t) => `SELECT '${t}' AS _t, * FROM ${t}`).join('; ')
    const out = await run(join(root, 'node_modules', '.bin', 'wrangler'), [
      ...['d1', 'execute', 'DB', '--local', '--persist-to', join(dataDir, 'wrangler'), '--json'],
      ...['--command', sql],
    ])
    expect(out.code, out.stderr).toBe(0)
    const results = JSON.parse(out.stdout) as Array<{ results: Array<Record<string, unknown>> }>
    expect(results).toHaveLength(MIRROR.length)
    return Object.fromEntries(
      results.map((r, i) => [MIRROR[i], r.results.map((row) => JSON.stringify(row)).sort()] as const),
    )
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-indexer-'))
    // The cron is held off: only the relayer's nudge, or this test's explicit scheduled runs, index.
    stack = await startStack({ root, dataDir, ports: await freePorts(), cronIntervalMs: 3_600_000 })
    provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
    api = new ApiClient({ apiUrl: stack.urls.api })
  })
  afterAll(async () => {
    provider?.destroy()
    await stack?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('shows a published asset as indexed through the nudge, and an offer once the scheduled run indexes it', async () => {
    const file = join(dataDir, 'cities.csv')
    writeFileSync(file, CSV)
    const published = await cli(['publish', file, '--title', 'Cities', '--dev-account', String(OWNER), '--json'])
    expect(published.code, published.stderr).toBe(0)
    ;({ tokenId, txHash: mintTx } = JSON.parse(published.stdout) as { tokenId: string; txHash: string })

    // No scheduled run has happened: the worker's nudge after its mint transaction indexes it.
    const asset = await until('the mint to be indexed', async () => {
      const r = await get<{ status: string; mint: { txHash: string } }>(`/assets/${tokenId}`)
      return r.body.status === 'indexed' ? r.body : undefined
    })
    expect(asset.mint.txHash).toBe(mintTx)
    const history = await get<{ status: string; events: Array<{ kind: string; txHash: string }> }>(
      `/assets/${tokenId}/history`,
    )
    expect(history.body.status).toBe('indexed')
    expect(history.body.events.filter((e) => e.kind === 'mint')).toEqual([
      expect.objectContaining({ kind: 'mint', txHash: mintTx }),
    ])

    // The owner's own transaction (not the worker's): indexed by the next scheduled run.
    const owner = devWallet(OWNER, provider)
    const built = await buildSetOffer(api, tokenId, {
      price: parseEther('0.01'),
      durationSeconds: 86_400,
      maxJobs: 5,
      epsilonBudgetMilli: 3_000,
    })
    offerTx = (await sendBuilt(owner, built)).hash
    await scheduled()
    const after = await until('the offer to be indexed', async () => {
      const r = await get<{ events: Array<{ kind: string; txHash: string; args: Record<string, string> }> }>(
        `/assets/${tokenId}/history`,
      )
      return r.body.events.some((e) => e.kind === 'offer') ? r : undefined
    })
    expect(after.body.events.map((e) => e.kind)).toEqual(expect.arrayContaining(['mint', 'transfer', 'offer']))
    expect(after.body.events.find((e) => e.kind === 'offer')).toMatchObject({
      txHash: offerTx,
      args: { tokenId, price: parseEther('0.01').toString(), owner: owner.address.toLowerCase() },
    })
    const market = new Contract(stack.addressBook.contracts.DataMarket, dataMarketAbi, provider)
    expect(await market.offerCount(tokenId)).toBe(1n)
  })

  it('shows a compute job as indexed once the receipt the relayer records is mirrored, without the cron', async () => {
    const bought = await cliJson(['buy', tokenId, '1', '--yes', '--dev-account', String(BUYER)])
    const out = await cliJson(['job', tokenId, 'SELECT COUNT(*) AS n FROM data', '--dev-account', String(BUYER)])
    expect(out.licenceId).toBe(bought.licenceId)
    // The buyer's purchase is indexed by no one yet (the cron is held off); the relayer's receipt
    // transaction nudges the indexer, which mirrors both.
    const job = await until('the job to be indexed', async () => {
      const r = await get<{ status: string; index: string; receipt?: { txHash: string } }>(`/jobs/${out.jobId}`)
      expect(r.body.index).not.toBe('failed')
      return r.body.index === 'indexed' ? r.body : undefined
    })
    expect(job).toMatchObject({ status: 'succeeded', index: 'indexed', receipt: { txHash: out.txHash } })
    const history = await get<{ events: Array<{ kind: string; txHash: string }> }>(`/assets/${tokenId}/history`)
    expect(history.body.events.filter((e) => e.kind === 'job')).toEqual([
      expect.objectContaining({ txHash: out.txHash }),
    ])
    expect(history.body.events.map((e) => e.kind)).toContain('licence')
  })

  it('anchors the export root in LedgerAnchor and rebuilds the same mirror, row for row, under npm run reindex', async () => {
    // Enough blocks for an anchor to be due (ANCHOR_EVERY_BLOCKS, 100 by default): the scheduled run
    // indexes them and sends the anchor; the next one indexes the anchor's own event.
    await provider.send('hardhat_mine', ['0x80'])
    await scheduled()
    await until('the anchor transaction', async () => {
      const anchor = new Contract(stack.addressBook.contracts.LedgerAnchor, ledgerAnchorAbi, provider)
      return (await anchor.anchorCount()) > 0n ? true : undefined
    })
    await scheduled()
    await until('the anchor to be indexed', async () => {
      const r = await get<{ anchors: unknown[] }>('/audit/root')
      return r.body.anchors.length ? true : undefined
    })
    const anchor = new Contract(stack.addressBook.contracts.LedgerAnchor, ledgerAnchorAbi, provider)
    const [root, leafCount, toBlock] = (await anchor.anchorOf(await anchor.anchorCount())) as [string, bigint, bigint]
    const rootAt = await get<{ merkleRoot: string; leafCount: number; anchors: Array<{ merkleRoot: string }> }>(
      `/audit/root?toBlock=${toBlock}`,
    )
    expect(rootAt.body).toMatchObject({ merkleRoot: root, leafCount: Number(leafCount) })
    const exported = await (await fetch(`${stack.urls.api}/audit/export?toBlock=${toBlock}`)).text()
    expect(JSON.parse(exported.trimEnd().split('\n').pop()!)).toMatchObject({ merkleRoot: root })

    const before = await mirror()
    expect(before.anchors).toHaveLength(1)
    expect(before.offers).toHaveLength(1)
    const token = /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(join(dataDir, 'worker.env'), 'utf8'))![1]
    const reindexed = await tsx('scripts/reindex.ts', ['--api', stack.urls.api, '--token', token])
    expect(reindexed.code, reindexed.stderr).toBe(0)
    expect(reindexed.stdout).toMatch(/reindex: done; \d+ events/)
    expect(await mirror()).toEqual(before)
  })

  it('passes npm run audit on the live export, and names a tampered line', async () => {
    const text = await (await fetch(`${stack.urls.api}/audit/export`)).text()
    const file = join(dataDir, 'ledger.ndjson')
    writeFileSync(file, text)
    const book = join(dataDir, 'book.json')
    writeFileSync(book, JSON.stringify(stack.addressBook))
    const ok = await tsx('scripts/audit.ts', ['--rpc', stack.urls.chain, '--export', file, '--address-book', book])
    expect(ok.code, ok.stdout + ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^OK: \d+ events .* 1 receipts verified; 1 anchors match/)

    const lines = text.trimEnd().split('\n')
    const i = lines.findIndex((l) => l.includes('"event":"OfferSet"'))
    lines[i] = lines[i].replace(/"maxJobs":"5"/, '"maxJobs":"50"')
    writeFileSync(file, lines.join('\n') + '\n')
    const bad = await tsx('scripts/audit.ts', ['--rpc', stack.urls.chain, '--export', file, '--address-book', book])
    expect(bad.code).toBe(1)
    expect(bad.stdout).toMatch(new RegExp(`DISCREPANCY: Merkle root mismatch.*line ${i + 1} .*OfferSet.*\`args\``))
  })
})
