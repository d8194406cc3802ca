// Both parties and the comparator in one process: the reference run of the protocol, used by tests,
// benchmarks and the enclave. Message by message as in REQUIREMENTS.md, "The PSI protocol of the slides".
import { compareBlinded } from './comparator'
import type { PsiEngine } from './engine'
import { createPsiParty, type PsiOutcome, type PsiPartyOptions } from './party'
import type { RandomBytes } from './random'

export interface LocalPsiResult {
  a: PsiOutcome
  b: PsiOutcome
  intersectionSize: number
  /** Everything C received, for audits and tests: U (from A) and V (from B). */
  comparatorView: { u: Uint8Array[]; v: Uint8Array[] }
  /** Bytes that crossed a wire: S, T, U and V. */
  bytesOnWire: number
}

export async function runLocalPsi(
  itemsA: readonly string[],
  itemsB: readonly string[],
  opts: { engine: PsiEngine; randomA?: RandomBytes; randomB?: RandomBytes; dst?: string } & Pick<
    PsiPartyOptions,
    'onProgress'
  >,
): Promise<LocalPsiResult> {
  const a = createPsiParty({ items: itemsA, engine: opts.engine, random: opts.randomA, dst: opts.dst })
  const b = createPsiParty({ items: itemsB, engine: opts.engine, random: opts.randomB, dst: opts.dst })
  try {
    const s = await a.blindOwn() // A → B
    const t = await b.blindOwn() // B → A
    const u = await a.blindPeer(t) // A → C
    const v = await b.blindPeer(s) // B → C
    const m = compareBlinded(u, v) // C → A (forA), C → B (forB)
    return {
      a: a.resolve(m.forA),
      b: b.resolve(m.forB),
      intersectionSize: m.forA.length,
      comparatorView: { u, v },
      bytesOnWire: 32 * (s.length + t.length + u.length + v.length),
    }
  } finally {
    a.dispose()
    b.dispose()
  }
}
