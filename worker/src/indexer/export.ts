// Owns the ledger export: every indexed event as a canonical JSON line in (block, log index) order,
// followed by one summary line carrying the RFC 6962 Merkle root of the event lines (worker/README.md).
import { eventsInOrder } from './indexer'
import { ledgerLine, MerkleAccumulator } from './ledger'

export interface LedgerSummary {
  chainId: number
  toBlock: number
  leafCount: number
  merkleRoot: string
  tree: 'RFC6962-SHA256'
}

/** The summary (root) of the ledger up to `toBlock`, without producing the lines. */
export async function ledgerSummary(db: D1Database, chainId: number, toBlock: number): Promise<LedgerSummary> {
  const m = new MerkleAccumulator()
  for await (const e of eventsInOrder(db, chainId, { toBlock, pageSize: 1000 })) m.push(ledgerLine(e))
  return { chainId, toBlock, leafCount: m.count, merkleRoot: m.root(), tree: 'RFC6962-SHA256' }
}

/** The export as a byte stream: one line per event, then the summary line. Pages are read as the client pulls. */
export function ledgerStream(db: D1Database, chainId: number, toBlock: number): ReadableStream<Uint8Array> {
  const utf8 = new TextEncoder()
  const m = new MerkleAccumulator()
  const it = eventsInOrder(db, chainId, { toBlock, pageSize: 1000 })[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const lines: string[] = []
      for (let i = 0; i < 1000; i++) {
        const next = await it.next()
        if (next.done) {
          const summary: LedgerSummary = {
            chainId,
            toBlock,
            leafCount: m.count,
            merkleRoot: m.root(),
            tree: 'RFC6962-SHA256',
          }
          controller.enqueue(utf8.encode(lines.join('') + JSON.stringify(summary) + '\n'))
          controller.close()
          return
        }
        const line = ledgerLine(next.value)
        m.push(line)
        lines.push(line + '\n')
      }
      controller.enqueue(utf8.encode(lines.join('')))
    },
    async cancel() {
      await it.return?.(undefined)
    },
  })
}
