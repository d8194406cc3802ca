// The two group operations PSI needs, behind one interface so a party can run on native code in Node
// and on pure JS anywhere else — and both produce the same bytes (test/psi/engines.test.ts).

/**
 * H and the blinding of the slides' protocol, on the prime-order subgroup of Curve25519, elements
 * written as 32-byte Montgomery u-coordinates (README.md, "Group and encoding").
 */
export interface PsiEngine {
  /** `node` = libsodium (WASM) map + OpenSSL X25519; `portable` = @noble/curves only. */
  readonly name: 'node' | 'portable'
  /** H(m) for each message: RFC 9380 encode_to_curve (curve25519_XMD:SHA-512_ELL2_NU_), u-coordinate. */
  hashToGroup(messages: Uint8Array[], dst: Uint8Array): Uint8Array[]
  /** X25519(scalar, u) for each u (RFC 7748 §5): the commutative blinding `op` of the slides. */
  blind(scalar: Uint8Array, points: Uint8Array[]): Uint8Array[]
}

/** Raised when a peer's element is not usable (a low-order point gives X25519's all-zero output). */
export class PsiInputError extends Error {
  override name = 'PsiInputError'
}

const isNode = () =>
  typeof process !== 'undefined' && typeof (process as { versions?: { node?: string } }).versions?.node === 'string'

/**
 * The fastest engine this runtime can load: `node` under Node.js, else `portable`.
 * @example const engine = await loadPsiEngine()
 */
export async function loadPsiEngine(prefer: 'auto' | 'node' | 'portable' = 'auto'): Promise<PsiEngine> {
  if (prefer === 'portable' || (prefer === 'auto' && !isNode())) {
    const { portableEngine } = await import('./engine-portable')
    return portableEngine
  }
  const { loadNodeEngine } = await import('./engine-node')
  return loadNodeEngine()
}
