// One PSI party in its own thread, for bench/psi.bench.ts: both parties of a run compute in parallel,
// as they would on two machines; the main thread only relays and compares (C).
import { parentPort } from 'node:worker_threads'
import { createPsiParty, loadPsiEngine, packElements, unpackElements, type PsiParty } from '../sdk/src/psi/index'

let party: PsiParty | undefined
parentPort!.on('message', async (msg: { op: string; items?: string[]; peer?: Uint8Array; positions?: number[] }) => {
  if (msg.op === 'warm') {
    // Load libsodium and warm the JIT before timing, as a running client would be.
    const warm = createPsiParty({ items: ['a', 'b', 'c'], engine: await loadPsiEngine('node') })
    await warm.blindPeer(await warm.blindOwn())
    parentPort!.postMessage('ready')
  } else if (msg.op === 'own') {
    party = createPsiParty({ items: msg.items!, engine: await loadPsiEngine('node'), chunkSize: 16384 })
    const own = packElements(await party.blindOwn(), 32)
    parentPort!.postMessage(own, [own.buffer as ArrayBuffer])
  } else if (msg.op === 'peer') {
    const out = packElements(await party!.blindPeer(unpackElements(msg.peer!, 32)), 32)
    parentPort!.postMessage(out, [out.buffer as ArrayBuffer])
  } else if (msg.op === 'resolve') {
    const r = party!.resolve(msg.positions!)
    party!.dispose()
    parentPort!.postMessage(r.values.length)
  }
})
