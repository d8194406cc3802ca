// Indexer throughput and reindex scaling (issue 8). A hardhat node holds 10,000 DataMarket events. Both
// sides run inside workerd next to a fresh Miniflare D1 (bench/support/indexer-worker.ts), as the indexer
// does in production: the indexer (worker/src/indexer) is timed against a baseline that does the least
// any mirror must — raw `eth_getLogs` over the same blocks plus D1 batch inserts of the same event rows,
// one statement per row, 250 rows per batch. Then reindex-from-genesis time at 1k, 5k and 10k events,
// fitted to time = a + b·n.
import { HDNodeWallet, Interface } from 'ethers'
import { dataMarketAbi } from '../contracts/index'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import type { D1Database } from '@cloudflare/workers-types/experimental'
import { applyMigrations, deployWorld, mint, startChain, type Chain, type World } from '../test/indexer/support'
import { timeMs, type BenchResult } from './lib'

const TOTAL = Number(process.env.BENCH_INDEXER_EVENTS ?? 10_000)
const BATCH = 250 // INDEXER_MAX_LOGS default: both sides write 250 rows per D1 batch

async function rpc(url: string, calls: Array<[string, unknown[]]>): Promise<unknown[]> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))),
  })
  const body = (await res.json()) as Array<{ id: number; result?: unknown; error?: { message: string } }>
  return body
    .sort((a, b) => a.id - b.id)
    .map((r) => {
      if (r.error) throw new Error(r.error.message)
      return r.result
    })
}

/** Puts `TOTAL` OfferSet events on chain: signed locally, sent in JSON-RPC batches, mined in full blocks. */
async function fill(chain: Chain, w: World): Promise<void> {
  const key = HDNodeWallet.fromPhrase(
    'test test test test test test test test test test test junk',
    undefined,
    "m/44'/60'/0'/0/5",
  )
  if (key.address !== w.owner.address) throw new Error('account 5 is not the owner')
  const { tokenId } = await mint(w, w.owner, 'bench asset')
  const market = new Interface(dataMarketAbi)
  const data = market.encodeFunctionData('setOffer', [
    tokenId,
    {
      price: 1n,
      currency: '0x0000000000000000000000000000000000000000',
      duration: 1,
      maxJobs: 1,
      epsilonBudgetMilli: 1,
      purposes: 1,
    },
  ])
  let nonce = Number(await chain.provider.send('eth_getTransactionCount', [key.address, 'pending']))
  await chain.provider.send('evm_setAutomine', [false])
  for (let sent = 0; sent < TOTAL;) {
    const n = Math.min(200, TOTAL - sent)
    const raws = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        key.signTransaction({
          to: w.book.contracts.DataMarket,
          data,
          nonce: nonce + i,
          gasLimit: 200_000,
          maxFeePerGas: 10n ** 11n,
          maxPriorityFeePerGas: 1n,
          chainId: 31337,
          type: 2,
        }),
      ),
    )
    await rpc(
      chain.url,
      raws.map((r) => ['eth_sendRawTransaction', [r]]),
    )
    nonce += n
    sent += n
  }
  for (;;) {
    await chain.provider.send('evm_mine', [])
    if (Number(await chain.provider.send('eth_getTransactionCount', [key.address, 'latest'])) >= nonce) break
  }
  await chain.provider.send('evm_setAutomine', [true])
}

/** The bench worker, bundled once (ethers, the ABIs and the indexer) as wrangler would bundle the worker. */
async function bundle(): Promise<string> {
  const out = await build({
    entryPoints: ['bench/support/indexer-worker.ts'],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['browser', 'module', 'main'],
    external: ['node:*', 'cloudflare:*'],
    write: false,
    logLevel: 'warning',
  })
  return out.outputFiles[0].text
}

/** A fresh workerd with an empty, migrated D1 and the bench worker; `call` times one request end to end. */
async function worker(script: string, w: World) {
  const mf = new Miniflare({
    modules: [{ type: 'ESModule', path: 'indexer-worker.mjs', contents: script }],
    compatibilityDate: '2026-04-01',
    compatibilityFlags: ['nodejs_compat'],
    d1Databases: ['DB'],
    bindings: { CHAIN_RPC_URL: w.chain.url, ADDRESS_BOOK: JSON.stringify(w.book) },
  })
  await applyMigrations((await mf.getD1Database('DB')) as unknown as D1Database)
  return {
    async call(path: string, params: Record<string, number | string>): Promise<{ ms: number; events: number }> {
      let body: { events: number } | undefined
      const ms = await timeMs(async () => {
        const res = await mf.dispatchFetch(`http://bench${path}`, { method: 'POST', body: JSON.stringify(params) })
        if (!res.ok) throw new Error(`${path}: ${await res.text()}`)
        body = (await res.json()) as { events: number }
      })
      return { ms, events: body!.events }
    },
    dispose: () => mf.dispose(),
  }
}

/** Least-squares fit of y = a + b·x, with each point's residual. */
function fitLine(points: Array<{ x: number; y: number }>) {
  const n = points.length
  const mx = points.reduce((s, p) => s + p.x, 0) / n
  const my = points.reduce((s, p) => s + p.y, 0) / n
  const b = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / points.reduce((s, p) => s + (p.x - mx) ** 2, 0)
  const a = my - b * mx
  return { a, b, residuals: points.map((p) => p.y - (a + b * p.x)) }
}

export default async function run(): Promise<BenchResult[]> {
  const chain = await startChain()
  try {
    const [w, script] = await Promise.all([deployWorld(chain), bundle()])
    await fill(chain, w)
    const head = await chain.provider.getBlockNumber()
    const from = w.book.deployedAtBlock

    // Blocks at which the ledger holds 1k, 5k and 10k events (plus the deployment's own).
    const logs = (
      await rpc(chain.url, [
        [
          'eth_getLogs',
          [
            {
              fromBlock: `0x${from.toString(16)}`,
              toBlock: `0x${head.toString(16)}`,
              address: Object.values(w.book.contracts),
            },
          ],
        ],
      ])
    )[0] as Array<{ blockNumber: string }>
    const cutAt = (k: number) => Number(logs[Math.min(k, logs.length) - 1].blockNumber)

    const once = async (path: string, params: Record<string, number | string>) => {
      const wk = await worker(script, w)
      try {
        return await wk.call(path, params)
      } finally {
        await wk.dispose()
      }
    }
    const baseline = () => once('/baseline', { from, to: head, batch: BATCH, range: 2000 })
    const reindexTo = (toBlock: number) => once('/reindex', { INDEXER_CONFIRMATIONS: head - toBlock })

    // Interleaved, best of 3 for the throughput ratio (each round indexes everything into a fresh D1).
    let b = Infinity
    let s = Infinity
    let indexed = 0
    let raw = 0
    for (let i = 0; i < 3; i++) {
      const rb = await baseline()
      b = Math.min(b, rb.ms)
      raw = rb.events
      const r = await reindexTo(head)
      s = Math.min(s, r.ms)
      indexed = r.events
    }
    if (raw !== indexed) throw new Error(`baseline wrote ${raw} rows but the indexer ${indexed}`)

    // Scaling: each size best of 3, sizes interleaved so load drifts hit all of them.
    const sizes = [1_000, 5_000, TOTAL]
    const best = new Map<number, { ms: number; events: number }>()
    for (let round = 0; round < 3; round++) {
      for (const k of sizes) {
        const r = await reindexTo(cutAt(k))
        const prev = best.get(k)
        if (!prev || r.ms < prev.ms) best.set(k, r)
      }
    }
    const scale = sizes.map((k) => ({ k, ...best.get(k)! }))
    const fit = fitLine(scale.map((x) => ({ x: x.events, y: x.ms })))
    // Linear means the marginal cost per event is the same over 1k→5k and 5k→10k: the fixed cost `a`
    // (workerd start-up is outside the timing; this is the run's own set-up) cancels in both slopes.
    const slope1to5 = (scale[1].ms - scale[0].ms) / ((scale[1].events - scale[0].events) / 1000)
    const slope5to10 = (scale[2].ms - scale[1].ms) / ((scale[2].events - scale[1].events) / 1000)
    const linearity = slope5to10 / slope1to5
    const worstResidual = Math.max(...fit.residuals.map((r, i) => Math.abs(r) / scale[i].ms))
    return [
      {
        name: `index ${indexed} events inside workerd (getLogs + decode + derive + D1)`,
        baseline: `raw eth_getLogs + D1 batch insert ${Math.round((indexed / b) * 1000)} events/s`,
        subject: `indexer ${Math.round((indexed / s) * 1000)} events/s`,
        ratio: b / s,
        ratioMeaning: 'throughput',
        target: '≥ 0.5',
        pass: b / s >= 0.5,
        details: { baselineMs: Math.round(b), subjectMs: Math.round(s), events: indexed },
      },
      {
        name: 'reindex from genesis grows linearly (marginal ms per 1k events, 5k→10k ÷ 1k→5k)',
        baseline: `${slope1to5.toFixed(0)} ms per 1k events (1k→5k)`,
        subject: `${slope5to10.toFixed(0)} ms per 1k events (5k→10k)`,
        ratio: linearity,
        ratioMeaning: 'time',
        // Marginal slopes equal within ±25 % and the straight line explains every point within 10 %.
        target: '0.75–1.25, fit residuals ≤ 10 %',
        pass: linearity >= 0.75 && linearity <= 1.25 && worstResidual <= 0.1,
        details: {
          fixedMs: Math.round(fit.a),
          msPer1kEvents: Number((fit.b * 1000).toFixed(1)),
          worstResidualPct: Number((worstResidual * 100).toFixed(1)),
          ...Object.fromEntries(
            scale.flatMap((x, i) => [
              [`ms@${x.events}`, Math.round(x.ms)],
              [`residualMs@${x.events}`, Math.round(fit.residuals[i])],
            ]),
          ),
        },
      },
    ]
  } finally {
    await chain.stop()
  }
}
