// One party of the slides' blinded intersection (A or B; the roles are symmetric): holds the secret
// scalar, produces its blinded and shuffled set, re-blinds the peer's set, and maps the comparator's
// answer back to its own items. The secret never leaves this object.
import { utf8 } from './bytes'
import { PSI_DST, SCALAR_BYTES } from './constants'
import type { PsiEngine } from './engine'
import { cryptoRandomBytes, randomPermutation, type RandomBytes } from './random'

/** Progress of a long step, for a progress bar: `done` of `total` elements in `phase`. */
export interface PsiProgress {
  phase: 'hash-and-blind' | 'blind-peer'
  done: number
  total: number
}

export interface PsiPartyOptions {
  /** The party's identifiers. Duplicates are allowed: they are sent once and all reported back. */
  items: readonly string[]
  engine: PsiEngine
  /** Randomness for the secret scalar and the shuffle (default: WebCrypto). */
  random?: RandomBytes
  /** Domain-separation tag; both parties must use the same (default PSI_DST). */
  dst?: string
  onProgress?: (p: PsiProgress) => void
  /** Elements per engine call between progress reports (default 4096). */
  chunkSize?: number
}

/** What a party learns at the end: its own items that are in the intersection. */
export interface PsiOutcome {
  /** Matched distinct values, in first-occurrence order of the input. */
  values: string[]
  /** Every input position whose value matched (duplicates included), ascending. */
  indices: number[]
}

export interface PsiParty {
  /** Number of distinct items (what the peer and the comparator see as this party's set size). */
  readonly size: number
  /** Step 1 — S = X·H(m) (or T = Y·H(n)) for each distinct item, in a secret random order. */
  blindOwn(): Promise<Uint8Array[]>
  /** Step 2 — U = X·T (or V = Y·S): the peer's list blinded again, in the peer's order. */
  blindPeer(peer: readonly Uint8Array[]): Promise<Uint8Array[]>
  /** Step 3 — the comparator's matched positions in *our* step-1 list → our matched items. */
  resolve(positions: readonly number[]): PsiOutcome
  /** Overwrites the secret scalar; the party is unusable afterwards. */
  dispose(): void
}

/**
 * @example
 * const a = createPsiParty({ items: ['alice', 'bob'], engine })
 * const S = await a.blindOwn()            // → B
 * const U = await a.blindPeer(T)          // T from B; U → C
 * const mine = a.resolve(answerForA)      // from C
 */
export function createPsiParty(opts: PsiPartyOptions): PsiParty {
  const { engine } = opts
  const random = opts.random ?? cryptoRandomBytes
  const dst = utf8(opts.dst ?? PSI_DST)
  const chunk = opts.chunkSize ?? 4096
  if (!Array.isArray(opts.items)) throw new TypeError('items must be an array of strings')

  // Distinct values, and where each occurs in the input.
  const occurrences = new Map<string, number[]>()
  opts.items.forEach((item, i) => {
    if (typeof item !== 'string') throw new TypeError(`item ${i} is not a string`)
    const list = occurrences.get(item)
    if (list) list.push(i)
    else occurrences.set(item, [i])
  })
  const distinct = [...occurrences.keys()]
  const secret = random(SCALAR_BYTES).slice()
  if (secret.length !== SCALAR_BYTES) throw new RangeError('random() returned the wrong number of bytes')
  // order[k] = index in `distinct` of the element sent at position k.
  const order = randomPermutation(distinct.length, random)
  let disposed = false
  let ownSent = false

  const live = () => {
    if (disposed) throw new Error('this PSI party was disposed')
  }

  const nextTask = () =>
    new Promise<void>((resolve) =>
      typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
    )

  async function chunked(
    total: number,
    phase: PsiProgress['phase'],
    step: (from: number, to: number) => Uint8Array[],
  ): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for (let from = 0; from < total; from += chunk) {
      const to = Math.min(total, from + chunk)
      for (const e of step(from, to)) out.push(e)
      opts.onProgress?.({ phase, done: to, total })
      // A macrotask, not a microtask: I/O runs between chunks. Otherwise a keep-alive socket the server
      // closed during a long computation is noticed only when the next upload is written to it (EPIPE).
      await nextTask()
    }
    if (total === 0) opts.onProgress?.({ phase, done: 0, total: 0 })
    return out
  }

  return {
    size: distinct.length,
    async blindOwn() {
      live()
      ownSent = true
      return chunked(distinct.length, 'hash-and-blind', (from, to) => {
        const msgs: Uint8Array[] = []
        for (let k = from; k < to; k++) msgs.push(utf8(distinct[order[k]]))
        return engine.blind(secret, engine.hashToGroup(msgs, dst))
      })
    },
    async blindPeer(peer) {
      live()
      return chunked(peer.length, 'blind-peer', (from, to) => engine.blind(secret, peer.slice(from, to)))
    },
    resolve(positions) {
      live()
      if (!ownSent) throw new Error('resolve() before blindOwn(): no positions can refer to our list')
      const hit = new Uint8Array(distinct.length)
      for (const k of positions) {
        if (!Number.isInteger(k) || k < 0 || k >= distinct.length) throw new RangeError(`position ${k} out of range`)
        hit[order[k]] = 1
      }
      const values: string[] = []
      const indices: number[] = []
      distinct.forEach((v, d) => {
        if (!hit[d]) return
        values.push(v)
        indices.push(...occurrences.get(v)!)
      })
      indices.sort((x, y) => x - y)
      return { values, indices }
    },
    dispose() {
      secret.fill(0)
      disposed = true
    },
  }
}
