// The comparator C of the slides: sees only the doubly-blinded lists U (from A, B's elements) and
// V (from B, A's elements), and tells each party which positions of *its own* list matched.
import { sha256 } from '@noble/hashes/sha2.js'
import { ELEMENT_BYTES } from './constants'
import { utf8 } from './bytes'

/** C's answer: `forA` = positions in V (A's shuffled list), `forB` = positions in U (B's), ascending. */
export interface PsiMatches {
  forA: number[]
  forB: number[]
}

function key(e: Uint8Array): string {
  if (e.length !== ELEMENT_BYTES) throw new RangeError(`blinded element must be ${ELEMENT_BYTES} bytes`)
  // One call for all 32 bytes (a 32-char Latin-1 string, one char per byte: injective), not 32 concatenations.
  return String.fromCharCode.apply(null, e as unknown as number[])
}

/**
 * Equality join of U and V, O(|U| + |V|). A value repeated inside one list (which honest parties never
 * send, since they deduplicate) matches at every position.
 */
export function compareBlinded(u: readonly Uint8Array[], v: readonly Uint8Array[]): PsiMatches {
  const inU = new Map<string, number[]>()
  u.forEach((e, j) => {
    const k = key(e)
    const list = inU.get(k)
    if (list) list.push(j)
    else inU.set(k, [j])
  })
  const forA: number[] = []
  const forB = new Set<number>()
  v.forEach((e, i) => {
    const js = inU.get(key(e))
    if (!js) return
    forA.push(i)
    for (const j of js) forB.add(j)
  })
  return { forA, forB: [...forB].sort((x, y) => x - y) }
}

const TRANSCRIPT_TAG = utf8('Stillflow-PSI-transcript-v1')

/**
 * The transcript hash committed on chain (ComputeLedger.commitPsi): SHA-256 of the tag, the session id
 * and both lists with their lengths (uint32 big-endian), so anyone holding U and V can recompute it.
 */
export function transcriptHash(sessionId: Uint8Array, u: readonly Uint8Array[], v: readonly Uint8Array[]): Uint8Array {
  if (sessionId.length !== 32) throw new RangeError('sessionId must be 32 bytes')
  const h = sha256.create().update(TRANSCRIPT_TAG).update(sessionId)
  for (const list of [u, v]) {
    const len = new Uint8Array(4)
    new DataView(len.buffer).setUint32(0, list.length)
    h.update(len)
    for (const e of list) {
      if (e.length !== ELEMENT_BYTES) throw new RangeError(`blinded element must be ${ELEMENT_BYTES} bytes`)
      h.update(e)
    }
  }
  return h.digest()
}
