// The party side as a Web Worker module for the storefront: the secret scalar lives only in this worker,
// the page posts identifiers in and gets blinded bytes and the final matches out, with progress.
// Load with `new Worker(new URL('./web-worker.ts', import.meta.url), { type: 'module' })`.
import { packElements, unpackElements } from './bytes'
import { ELEMENT_BYTES } from './constants'
import { loadPsiEngine, type PsiEngine } from './engine'
import { createPsiParty, type PsiOutcome, type PsiParty, type PsiProgress } from './party'

/** Messages the page sends. */
export type PsiWorkerRequest =
  | { type: 'blind-own'; items: string[] }
  | { type: 'blind-peer'; peer: Uint8Array }
  | { type: 'resolve'; positions: number[] }

/** Messages the worker answers with. `own`/`peer` carry packed 32-byte elements. */
export type PsiWorkerResponse =
  | { type: 'progress'; progress: PsiProgress }
  | { type: 'own'; packed: Uint8Array }
  | { type: 'peer'; packed: Uint8Array }
  | { type: 'outcome'; outcome: PsiOutcome }
  | { type: 'error'; message: string }

/** The worker's state machine, separate from `self` so it can be tested in Node. */
export function createPsiWorkerHandler(post: (m: PsiWorkerResponse) => void, engine?: PsiEngine) {
  let party: PsiParty | undefined
  return async (req: PsiWorkerRequest): Promise<void> => {
    try {
      if (req.type === 'blind-own') {
        party?.dispose()
        party = createPsiParty({
          items: req.items,
          engine: engine ?? (await loadPsiEngine('portable')),
          onProgress: (progress) => post({ type: 'progress', progress }),
        })
        post({ type: 'own', packed: packElements(await party.blindOwn(), ELEMENT_BYTES) })
      } else if (req.type === 'blind-peer') {
        if (!party) throw new Error('send blind-own first')
        const out = await party.blindPeer(unpackElements(req.peer, ELEMENT_BYTES))
        post({ type: 'peer', packed: packElements(out, ELEMENT_BYTES) })
      } else if (req.type === 'resolve') {
        if (!party) throw new Error('send blind-own first')
        post({ type: 'outcome', outcome: party.resolve(req.positions) })
        party.dispose()
        party = undefined
      } else {
        throw new Error(`unknown request ${(req as { type?: string }).type}`)
      }
    } catch (err) {
      post({ type: 'error', message: (err as Error).message })
    }
  }
}

// Inside a dedicated worker (no `window`), wire the handler to the message port.
const scope = globalThis as unknown as {
  window?: unknown
  postMessage?: (m: unknown, t?: unknown[]) => void
  addEventListener?: (t: string, f: (e: { data: PsiWorkerRequest }) => void) => void
  WorkerGlobalScope?: unknown
}
if (
  scope.WorkerGlobalScope !== undefined &&
  scope.window === undefined &&
  scope.addEventListener &&
  scope.postMessage
) {
  const post = scope.postMessage.bind(scope)
  const handle = createPsiWorkerHandler((m) => post(m))
  scope.addEventListener('message', (e) => void handle(e.data))
}
