// The pure-JS engine (@noble/curves): runs in browsers, Web Workers and Node alike; ~30× slower than
// the node engine, so meant for small sets or when nothing native is available.
import { ed25519, ed25519_hasher, x25519 } from '@noble/curves/ed25519.js'
import { PsiInputError, type PsiEngine } from './engine'

export const portableEngine: PsiEngine = {
  name: 'portable',
  hashToGroup(messages, dst) {
    // RFC 9380 §3 encode_to_curve with suite edwards25519_XMD:SHA-512_ELL2_NU_ (§8.5): the same map
    // and cofactor clearing as curve25519_XMD:SHA-512_ELL2_NU_, carried to Montgomery form by the
    // birational map of RFC 7748 §4.1.
    return messages.map((m) => ed25519.utils.toMontgomery(ed25519_hasher.encodeToCurve(m, { DST: dst }).toBytes()))
  },
  blind(scalar, points) {
    return points.map((u, i) => {
      try {
        return x25519.scalarMult(scalar, u)
      } catch (cause) {
        throw new PsiInputError(`element ${i} is not a usable curve point`, { cause })
      }
    })
  },
}
