// The slides' protocol end to end (R55, R61): PSI(a, b) = a ∩ b for random sets, and C's view holds
// nothing but doubly-blinded values.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { loadPsiEngine, runLocalPsi, toHex, PSI_DST } from '../../sdk/src/psi/index'
import { plainIntersection, seededRandom } from './support'

const utf8 = (s: string) => new TextEncoder().encode(s)

describe('PSI(a, b) = a ∩ b', async () => {
  const engine = await loadPsiEngine('node')
  // Small domains make overlaps and duplicates likely; sizes stay small to keep the suite fast.
  const item = fc.oneof(
    fc.integer({ min: 0, max: 40 }).map((i) => `id-${i}`),
    fc.string({ maxLength: 12 }),
  )
  const set = fc.array(item, { maxLength: 30 })

  async function check(a: string[], b: string[], seed: number) {
    const r = await runLocalPsi(a, b, { engine, randomA: seededRandom(`a${seed}`), randomB: seededRandom(`b${seed}`) })
    const want = plainIntersection(a, b)
    expect(new Set(r.a.values)).toEqual(want)
    expect(new Set(r.b.values)).toEqual(want)
    expect(r.intersectionSize).toBe(want.size)
    // Every position of every duplicate is reported, and only those.
    expect(r.a.indices).toEqual(a.flatMap((x, i) => (want.has(x) ? [i] : [])))
    expect(r.b.indices).toEqual(b.flatMap((x, i) => (want.has(x) ? [i] : [])))
    return r
  }

  it('holds for random sets with overlaps and duplicates', async () => {
    await fc.assert(
      fc.asyncProperty(set, set, fc.nat(), (a, b, s) => check(a, b, s).then(() => undefined)),
      {
        numRuns: 40,
      },
    )
  })

  it('holds for the edge cases: empty, one side empty, disjoint, identical, all duplicates', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `user-${i}@example.com`)
    await check([], [], 1)
    await check(ids, [], 2)
    await check([], ids, 3)
    await check(ids.slice(0, 10), ids.slice(10), 4)
    await check(ids, [...ids].reverse(), 5)
    await check(['x', 'x', 'x'], ['x', 'y', 'x'], 6)
    await check(['', 'é', 'e\u0301'], ['e\u0301'], 7)
  })

  it('C’s recorded view contains no H(m), H(n), X, Y or plaintext', async () => {
    await fc.assert(
      fc.asyncProperty(set, set, fc.nat(), async (a, b, s) => {
        const randomA = seededRandom(`view-a${s}`)
        const randomB = seededRandom(`view-b${s}`)
        // The parties draw X and Y first, so the same seeds reproduce them here.
        const x = toHex(seededRandom(`view-a${s}`)(32))
        const y = toHex(seededRandom(`view-b${s}`)(32))
        const r = await runLocalPsi(a, b, { engine, randomA, randomB })
        const view = [...r.comparatorView.u, ...r.comparatorView.v].map(toHex)
        const blob = view.join('')
        const hashes = engine.hashToGroup([...a, ...b].map(utf8), utf8(PSI_DST)).map(toHex)
        for (const h of hashes) expect(view).not.toContain(h)
        expect(blob).not.toContain(x)
        expect(blob).not.toContain(y)
        for (const m of [...a, ...b].filter((m) => m.length >= 4)) expect(blob).not.toContain(toHex(utf8(m)))
        // C sees exactly one 32-byte value per distinct element of each side, nothing more.
        expect(r.comparatorView.v.length).toBe(new Set(a).size)
        expect(r.comparatorView.u.length).toBe(new Set(b).size)
      }),
      { numRuns: 20 },
    )
  })

  it('fresh secrets make two runs over the same sets unlinkable for C', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `id-${i}`)
    const r1 = await runLocalPsi(ids, ids, { engine, randomA: seededRandom('s1'), randomB: seededRandom('s2') })
    const r2 = await runLocalPsi(ids, ids, { engine, randomA: seededRandom('s3'), randomB: seededRandom('s4') })
    const v1 = r1.comparatorView.v.map(toHex)
    const v2 = r2.comparatorView.v.map(toHex)
    expect(v1.filter((h) => v2.includes(h))).toEqual([])
  })

  it('sends 32 bytes per element on each of the four messages (S, T, U, V)', async () => {
    const r = await runLocalPsi(['a', 'b', 'c'], ['b', 'c', 'd', 'e'], { engine })
    expect(r.bytesOnWire).toBe(32 * (3 + 4 + 4 + 3))
  })
})
