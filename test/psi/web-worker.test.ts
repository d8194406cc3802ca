// The Web Worker's message protocol, driven directly (the same handler the worker wires to `self`).
import { describe, expect, it } from 'vitest'
import { compareBlinded, createPsiWorkerHandler, unpackElements, type PsiWorkerResponse } from '../../sdk/src/psi/index'

function worker() {
  const out: PsiWorkerResponse[] = []
  const handle = createPsiWorkerHandler((m) => out.push(m))
  const last = <T extends PsiWorkerResponse['type']>(t: T) =>
    out.filter((m) => m.type === t).at(-1) as Extract<PsiWorkerResponse, { type: T }>
  return { handle, out, last }
}

describe('PSI web worker', () => {
  it('runs a party end to end with the portable engine and reports progress', async () => {
    const a = worker()
    const b = worker()
    await a.handle({ type: 'blind-own', items: ['ann', 'bob', 'cy'] })
    await b.handle({ type: 'blind-own', items: ['cy', 'dan', 'ann'] })
    await a.handle({ type: 'blind-peer', peer: b.last('own').packed })
    await b.handle({ type: 'blind-peer', peer: a.last('own').packed })
    const m = compareBlinded(unpackElements(a.last('peer').packed, 32), unpackElements(b.last('peer').packed, 32))
    await a.handle({ type: 'resolve', positions: m.forA })
    expect(a.last('outcome').outcome.values.sort()).toEqual(['ann', 'cy'])
    expect(a.out.some((x) => x.type === 'progress')).toBe(true)
  })

  it('answers errors as messages, never throws', async () => {
    const w = worker()
    await w.handle({ type: 'resolve', positions: [] })
    await w.handle({ type: 'nonsense' } as never)
    expect(w.out.map((m) => m.type)).toEqual(['error', 'error'])
  })
})
