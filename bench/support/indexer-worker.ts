// Bench-only worker entry (bench/indexer.bench.ts): runs both sides of the indexer benchmark inside
// workerd, next to D1, as production does — so neither side pays Miniflare's Node↔workerd proxy per
// statement. POST /baseline does raw eth_getLogs + one-row-per-statement D1 batch inserts; POST /reindex
// runs the indexer's reindex from genesis until caught up.
import { indexNow, reindex, type IndexerBindings } from '../../worker/src/indexer/index'

interface RawLog {
  address: string
  topics: string[]
  data: string
  blockNumber: string
  blockHash: string
  transactionHash: string
  logIndex: string
}

const hex = (n: number) => `0x${n.toString(16)}`

async function getLogs(rpc: string, from: number, to: number, address: string[]): Promise<RawLog[]> {
  const res = await fetch(rpc, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'eth_getLogs',
      params: [{ fromBlock: hex(from), toBlock: hex(to), address }],
    }),
  })
  const body = (await res.json()) as { result?: RawLog[]; error?: { message: string } }
  if (!body.result) throw new Error(body.error?.message ?? 'eth_getLogs failed')
  return body.result
}

/** The least any mirror must do: fetch the logs, write one events row per log, `batch` rows per D1 batch. */
async function baseline(env: IndexerBindings, p: { from: number; to: number; batch: number; range: number }) {
  const book = JSON.parse(env.ADDRESS_BOOK as string) as { chainId: number; contracts: Record<string, string> }
  const address = Object.values(book.contracts)
  let events = 0
  for (let start = p.from; start <= p.to; start += p.range) {
    const logs = await getLogs(env.CHAIN_RPC_URL as string, start, Math.min(p.to, start + p.range - 1), address)
    for (let i = 0; i < logs.length; i += p.batch) {
      await env.DB.batch(
        logs
          .slice(i, i + p.batch)
          .map((l) =>
            env.DB.prepare(
              'INSERT OR IGNORE INTO events (chain_id, block_number, block_hash, block_time, tx_hash, log_index, address, contract, name, args, detail, token_id, licence_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
            ).bind(
              book.chainId,
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
    events += logs.length
  }
  return { events }
}

async function reindexAll(env: IndexerBindings) {
  let r = await reindex(env, { maxRanges: 1_000_000 })
  let events = r.events
  while (!r.caughtUp) {
    r = await indexNow(env, { maxRanges: 1_000_000 })
    events += r.events
  }
  return { events, indexedBlock: r.indexedBlock }
}

export default {
  async fetch(req: Request, env: IndexerBindings): Promise<Response> {
    const path = new URL(req.url).pathname
    try {
      const params = (await req.json()) as Record<string, string | number>
      const e = { ...env, ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])) }
      if (path === '/baseline') return Response.json(await baseline(e as IndexerBindings, params as never))
      if (path === '/reindex') return Response.json(await reindexAll(e as IndexerBindings))
      return new Response('not found', { status: 404 })
    } catch (err) {
      return new Response(String((err as Error)?.stack ?? err), { status: 500 })
    }
  },
}
