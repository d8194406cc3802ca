// Indexer throughput and reindex scaling (issue 8). A hardhat node holds 10,000 DataMarket events; the
// indexer (worker/src/indexer, run in Node against a Miniflare D1) is timed against a baseline that does
// the least any mirror must: raw `eth_getLogs` over the same blocks plus D1 batch inserts of the same
// event rows, in batches of the same size. Then reindex-from-genesis time at 1k, 5k and 10k events.
import { HDNodeWallet, Interface } from 'ethers'
import { dataMarketAbi } from '../contracts/index'
import {
  bindings,
  deployWorld,
  indexer,
  mint,
  startChain,
  startDb,
  type Chain,
  type World,
} from '../test/indexer/support'
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

/**
 * Node's fetch (undici) sometimes reuses a keep-alive socket the hardhat node has just closed ("other
 * side closed"); workerd, where the indexer runs in production, does not. Retry such a request once.
 */
function retryClosedSockets(): () => void {
  const original = globalThis.fetch
  globalThis.fetch = async (input, init) => {
    try {
      return await original(input, init)
    } catch (err) {
      if (!/other side closed|ECONNRESET|socket hang up/.test(String((err as { cause?: unknown }).cause ?? err)))
        throw err
      return original(input, init)
    }
  }
  return () => (globalThis.fetch = original)
}

export default async function run(): Promise<BenchResult[]> {
  const restore = retryClosedSockets()
  const chain = await startChain()
  try {
    const w = await deployWorld(chain)
    await fill(chain, w)
    const head = await chain.provider.getBlockNumber()
    const from = w.book.deployedAtBlock
    const addresses = Object.values(w.book.contracts)

    // Blocks at which the ledger holds 1k, 5k and 10k events (plus the deployment's own).
    const logs = (
      await rpc(chain.url, [
        [
          'eth_getLogs',
          [{ fromBlock: `0x${from.toString(16)}`, toBlock: `0x${head.toString(16)}`, address: addresses }],
        ],
      ])
    )[0] as Array<{ blockNumber: string }>
    const cutAt = (k: number) => Number(logs[Math.min(k, logs.length) - 1].blockNumber)

    const baseline = async () => {
      const d = await startDb()
      try {
        return await timeMs(async () => {
          for (let start = from; start <= head; start += 2000) {
            const [chunk] = (await rpc(chain.url, [
              [
                'eth_getLogs',
                [
                  {
                    fromBlock: `0x${start.toString(16)}`,
                    toBlock: `0x${Math.min(head, start + 1999).toString(16)}`,
                    address: addresses,
                  },
                ],
              ],
            ])) as Array<
              Array<{
                address: string
                topics: string[]
                data: string
                blockNumber: string
                blockHash: string
                transactionHash: string
                logIndex: string
              }>
            >
            for (let i = 0; i < chunk.length; i += BATCH) {
              await d.db.batch(
                chunk
                  .slice(i, i + BATCH)
                  .map((l) =>
                    d.db
                      .prepare(
                        'INSERT OR IGNORE INTO events (chain_id, block_number, block_hash, block_time, tx_hash, log_index, address, contract, name, args, detail, token_id, licence_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                      )
                      .bind(
                        31337,
                        Number(l.blockNumber),
                        l.blockHash,
                        0,
                        l.transactionHash,
                        Number(l.logIndex),
                        l.address,
                        'raw',
                        'raw',
                        JSON.stringify({ topics: l.topics, data: l.data }),
                        null,
                        null,
                        null,
                      ),
                  ),
              )
            }
          }
        })
      } finally {
        await d.dispose()
      }
    }
    const reindexTo = async (toBlock: number) => {
      const d = await startDb()
      try {
        const env = bindings(w, d.db, { INDEXER_CONFIRMATIONS: String(head - toBlock) })
        let events = 0
        const ms = await timeMs(async () => {
          let r = await indexer.reindex(env, { maxRanges: 1_000_000 })
          events += r.events
          while (!r.caughtUp) {
            r = await indexer.indexNow(env, { maxRanges: 1_000_000 })
            events += r.events
          }
        })
        return { ms, events }
      } finally {
        await d.dispose()
      }
    }

    // Interleaved, best of 2 for the throughput ratio (each round re-indexes everything).
    let b = Infinity
    let s = Infinity
    let indexed = 0
    for (let i = 0; i < 2; i++) {
      b = Math.min(b, await baseline())
      const r = await reindexTo(head)
      s = Math.min(s, r.ms)
      indexed = r.events
    }
    const scale = []
    for (const k of [1_000, 5_000, TOTAL]) {
      const r = await reindexTo(cutAt(k))
      scale.push({ k, ...r })
    }
    const perEvent = scale.map((x) => x.ms / x.events)
    const slope1to5 = (scale[1].ms - scale[0].ms) / ((scale[1].events - scale[0].events) / 1000)
    const slope5to10 = (scale[2].ms - scale[1].ms) / ((scale[2].events - scale[1].events) / 1000)
    const linearity = slope5to10 / slope1to5
    return [
      {
        name: `index ${indexed} events (getLogs + decode + derive + D1)`,
        baseline: `raw eth_getLogs + D1 batch insert ${Math.round((indexed / b) * 1000)} events/s`,
        subject: `indexer ${Math.round((indexed / s) * 1000)} events/s`,
        ratio: b / s,
        ratioMeaning: 'throughput',
        target: '≥ 0.5',
        pass: b / s >= 0.5,
        details: { baselineMs: Math.round(b), subjectMs: Math.round(s), events: indexed },
      },
      {
        name: 'reindex from genesis grows linearly (slope 5k→10k ÷ slope 1k→5k)',
        baseline: `${slope1to5.toFixed(0)} ms per 1k events (1k→5k)`,
        subject: `${slope5to10.toFixed(0)} ms per 1k events (5k→10k)`,
        ratio: linearity,
        ratioMeaning: 'time',
        target: '0.67–1.5 (linear)',
        pass: linearity >= 0.67 && linearity <= 1.5,
        details: Object.fromEntries(
          scale.flatMap((x, i) => [
            [`ms@${x.events}`, Math.round(x.ms)],
            [`msPerEvent@${x.k}`, Number(perEvent[i].toFixed(3))],
          ]),
        ),
      },
    ]
  } finally {
    await chain.stop()
    restore()
  }
}
