// H of the protocol: RFC 9380 known answers, and the native and portable engines agreeing byte for byte.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ed25519 } from '@noble/curves/ed25519.js'
import { loadPsiEngine, portableEngine, toHex, type PsiEngine } from '../../sdk/src/psi/index'
import { edwardsToMontgomeryBatch } from '../../sdk/src/psi/montgomery'

const utf8 = (s: string) => new TextEncoder().encode(s)
const beHex = (le: Uint8Array) => toHex(le.slice().reverse())

// RFC 9380 Appendix J.4.2, suite curve25519_XMD:SHA-512_ELL2_NU_: P.x for each msg.
const RFC9380_J42 = {
  source: 'RFC 9380 Appendix J.4.2 (curve25519_XMD:SHA-512_ELL2_NU_)',
  dst: 'QUUX-V01-CS02-with-curve25519_XMD:SHA-512_ELL2_NU_',
  vectors: [
    { msg: '', x: '1bb913f0c9daefa0b3375378ffa534bda5526c97391952a7789eb976edfe4d08' },
    { msg: 'abc', x: '7c22950b7d900fa866334262fcaea47a441a578df43b894b4625c9b450f9a026' },
    { msg: 'abcdef0123456789', x: '31ad08a8b0deeb2a4d8b0206ca25f567ab4e042746f792f4b7973f3ae2096c52' },
  ],
}

describe('hash to group', async () => {
  const node = await loadPsiEngine('node')
  const engines: PsiEngine[] = [node, portableEngine]

  for (const engine of engines) {
    it(`${engine.name} engine matches ${RFC9380_J42.source}`, () => {
      const got = engine.hashToGroup(
        RFC9380_J42.vectors.map((v) => utf8(v.msg)),
        utf8(RFC9380_J42.dst),
      )
      expect(got.map(beHex)).toEqual(RFC9380_J42.vectors.map((v) => v.x))
    })
  }

  it('the node and portable engines give the same H and the same blinding for any input', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 80 }), { maxLength: 6 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (msgs, scalar) => {
          const dst = utf8('test-dst')
          const h1 = node.hashToGroup(msgs, dst)
          const h2 = portableEngine.hashToGroup(msgs, dst)
          expect(h1.map(toHex)).toEqual(h2.map(toHex))
          expect(node.blind(scalar, h1).map(toHex)).toEqual(portableEngine.blind(scalar, h2).map(toHex))
        },
      ),
      { numRuns: 25 },
    )
  })

  it('blinding commutes: X·(Y·H(m)) = Y·(X·H(m))', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (m, x, y) => {
          const [h] = node.hashToGroup([utf8(m)], utf8('test-dst'))
          const xy = node.blind(x, node.blind(y, [h]))[0]
          const yx = node.blind(y, node.blind(x, [h]))[0]
          expect(toHex(xy)).toBe(toHex(yx))
        },
      ),
      { numRuns: 40 },
    )
  })

  it('edwardsToMontgomeryBatch equals noble’s per-point conversion and refuses the identity', () => {
    const pts = [1n, 2n, 3n, 12345n].map((k) => ed25519.Point.BASE.multiply(k).toBytes())
    expect(edwardsToMontgomeryBatch(pts).map(toHex)).toEqual(pts.map((p) => toHex(ed25519.utils.toMontgomery(p))))
    expect(edwardsToMontgomeryBatch([])).toEqual([])
    expect(() => edwardsToMontgomeryBatch([ed25519.Point.ZERO.toBytes()])).toThrow(/identity/)
    expect(() => edwardsToMontgomeryBatch([new Uint8Array(31)])).toThrow(/32 bytes/)
  })
  it('the node engine gives the same H in one large call (across its WASM batches) as element by element', () => {
    // 2,100 messages span three of the engine's 1,024-element batches; lengths up to 300 bytes grow its
    // expand_message scratch buffer mid-call.
    const msgs = Array.from({ length: 2100 }, (_, i) => utf8(`id-${i}-`.repeat(1 + (i % 40))))
    const dst = utf8('batch-dst')
    const all = node.hashToGroup(msgs, dst).map(toHex)
    const picks = [0, 1, 1023, 1024, 1025, 2047, 2048, 2099]
    for (const i of picks) expect({ i, h: all[i] }).toEqual({ i, h: toHex(node.hashToGroup([msgs[i]], dst)[0]) })
    expect(new Set(all).size).toBe(msgs.length)
    // And element 1500 agrees with the portable engine (RFC 9380 via @noble/curves).
    expect(all[1500]).toBe(toHex(portableEngine.hashToGroup([msgs[1500]], dst)[0]))
  })
})
