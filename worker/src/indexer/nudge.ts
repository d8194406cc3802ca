// Owns the nudge: after the worker's relayer sends a transaction and it is mined, the indexer runs at once
// (in the background of the request or queue message that sent it) instead of waiting for the cron, so the
// API turns `pending` into `indexed` within a round trip (issue 8). A failed nudge is only logged: the cron
// indexes the same blocks on its next run.
import { indexNow } from './indexer'
import type { IndexerBindings } from './settings'

/**
 * Runs `indexNow` in the background of the current invocation (`waitUntil` of `cloudflare:workers`).
 * Outside workerd (Node tests of the relayer) there is no invocation to extend and it does nothing.
 * @example
 * const receipt = await tx.wait(); nudgeIndexer(env)
 */
export function nudgeIndexer(env: IndexerBindings): void {
  const run = (async () => {
    let waitUntil: ((p: Promise<unknown>) => void) | undefined
    try {
      ;({ waitUntil } = await import('cloudflare:workers'))
    } catch {
      return
    }
    const indexing = indexNow(env, { maxRanges: 5 }).catch((err) => console.error('indexer nudge failed', err))
    try {
      waitUntil(indexing)
    } catch {
      // No invocation to extend (a test calling the relayer directly): the run just goes on unawaited.
    }
  })()
  void run.catch(() => undefined)
}
