// The party's public functions under invalid input, the shuffle, and the consent signatures.
import { Wallet } from 'ethers'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  compareBlinded,
  createPsiParty,
  loadPsiEngine,
  packElements,
  portableEngine,
  PsiInputError,
  randomPermutation,
  recoverParticipation,
  recoverPsiRequest,
  signParticipation,
  signPsiRequest,
  transcriptHash,
  unpackElements,
  fromHex,
  toHex,
  type PsiParticipation,
} from '../../sdk/src/psi/index'
import { seededRandom } from './support'

describe('createPsiParty', async () => {
  const engine = await loadPsiEngine('node')

  it('refuses items that are not an array of strings', () => {
    expect(() => createPsiParty({ items: 'abc' as never, engine })).toThrow(/array of strings/)
    expect(() => createPsiParty({ items: ['a', 3 as never], engine })).toThrow(/item 1 is not a string/)
  })

  it('rejects peer elements of the wrong length and low-order points, on both engines', async () => {
    for (const e of [engine, portableEngine]) {
      const p = createPsiParty({ items: ['a'], engine: e, random: seededRandom('p') })
      await expect(p.blindPeer([new Uint8Array(31)])).rejects.toThrow()
      // u = 0 and u = 1 have small order: X25519 gives all zeros, which both engines refuse.
      await expect(p.blindPeer([new Uint8Array(32)])).rejects.toBeInstanceOf(PsiInputError)
      const one = new Uint8Array(32)
      one[0] = 1
      await expect(p.blindPeer([one])).rejects.toBeInstanceOf(PsiInputError)
    }
  })

  it('resolve() refuses positions out of range and calls before blindOwn()', async () => {
    const p = createPsiParty({ items: ['a', 'b'], engine, random: seededRandom('r') })
    expect(() => p.resolve([0])).toThrow(/before blindOwn/)
    await p.blindOwn()
    expect(() => p.resolve([2])).toThrow(RangeError)
    expect(() => p.resolve([-1])).toThrow(RangeError)
    expect(() => p.resolve([0.5])).toThrow(RangeError)
    expect(p.resolve([]).values).toEqual([])
  })

  it('is unusable after dispose()', async () => {
    const p = createPsiParty({ items: ['a'], engine, random: seededRandom('d') })
    p.dispose()
    await expect(p.blindOwn()).rejects.toThrow(/disposed/)
  })

  it('reports progress per chunk up to the total', async () => {
    const seen: string[] = []
    const p = createPsiParty({
      items: Array.from({ length: 10 }, (_, i) => `${i}`),
      engine,
      chunkSize: 4,
      onProgress: (x) => seen.push(`${x.phase}:${x.done}/${x.total}`),
    })
    await p.blindOwn()
    expect(seen).toEqual(['hash-and-blind:4/10', 'hash-and-blind:8/10', 'hash-and-blind:10/10'])
  })
})

describe('randomPermutation', () => {
  it('is a permutation for any size and randomness', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.nat(), (n, seed) => {
        const p = randomPermutation(n, seededRandom(seed))
        expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
      }),
      { numRuns: 50 },
    )
  })

  it('puts each element in each position about equally often', () => {
    const random = seededRandom('uniform')
    const counts = Array.from({ length: 4 }, () => new Array(4).fill(0))
    for (let t = 0; t < 4000; t++) randomPermutation(4, random).forEach((v, pos) => counts[v][pos]++)
    for (const row of counts) for (const c of row) expect(Math.abs(c - 1000)).toBeLessThan(150)
  })
})

describe('compareBlinded and transcriptHash', () => {
  const e = (b: number) => new Uint8Array(32).fill(b)

  it('reports each side its own positions only', () => {
    expect(compareBlinded([e(1), e(2), e(3)], [e(3), e(9), e(1)])).toEqual({ forA: [0, 2], forB: [0, 2] })
    expect(compareBlinded([], [e(1)])).toEqual({ forA: [], forB: [] })
    expect(() => compareBlinded([new Uint8Array(31)], [])).toThrow(/32 bytes/)
  })

  it('binds the session, both lists and their split', () => {
    const sid = new Uint8Array(32).fill(7)
    const h = toHex(transcriptHash(sid, [e(1)], [e(2)]))
    expect(toHex(transcriptHash(sid, [e(2)], [e(1)]))).not.toBe(h)
    expect(toHex(transcriptHash(sid, [e(1), e(2)], []))).not.toBe(h)
    expect(toHex(transcriptHash(new Uint8Array(32), [e(1)], [e(2)]))).not.toBe(h)
    expect(() => transcriptHash(new Uint8Array(31), [], [])).toThrow(/32 bytes/)
  })

  it('packs and unpacks elements losslessly, refusing ragged input', () => {
    const packed = packElements([e(1), e(2)], 32)
    expect(unpackElements(packed, 32).map(toHex)).toEqual([toHex(e(1)), toHex(e(2))])
    expect(() => unpackElements(new Uint8Array(33), 32)).toThrow(/multiple/)
    expect(() => packElements([new Uint8Array(3)], 32)).toThrow(/32 bytes/)
    expect(toHex(fromHex('0x0aff'))).toBe('0aff')
    expect(() => fromHex('abc')).toThrow()
  })
})

describe('consent (EIP-712)', () => {
  const a = new Wallet('0x' + '11'.repeat(32))
  const b = new Wallet('0x' + '22'.repeat(32))
  const p: PsiParticipation = {
    sessionId: '0x' + 'ab'.repeat(32),
    partyA: a.address,
    partyB: b.address,
    role: 0,
    maxElements: 1000,
    expiresAt: 2_000_000_000,
    transportKey: '0x' + '01'.repeat(32),
  }

  it('recovers the signer, and another chain, session or role recovers someone else', async () => {
    const sig = await signParticipation(a, 31337, p)
    expect(recoverParticipation(31337, p, sig)).toBe(a.address)
    expect(recoverParticipation(1, p, sig)).not.toBe(a.address)
    expect(recoverParticipation(31337, { ...p, role: 1 }, sig)).not.toBe(a.address)
    expect(recoverParticipation(31337, { ...p, sessionId: '0x' + 'cd'.repeat(32) }, sig)).not.toBe(a.address)
  })

  it('a request signature does not verify as another action or body', async () => {
    const r = {
      sessionId: p.sessionId,
      role: 1,
      action: 'get-result' as const,
      bodyHash: '0x' + '00'.repeat(32),
      nonce: 5n,
      deadline: 2_000_000_000,
    }
    const sig = await signPsiRequest(b, 31337, r)
    expect(recoverPsiRequest(31337, r, sig)).toBe(b.address)
    expect(recoverPsiRequest(31337, { ...r, action: 'get-relay' }, sig)).not.toBe(b.address)
    expect(recoverPsiRequest(31337, { ...r, nonce: 6n }, sig)).not.toBe(b.address)
  })
})
