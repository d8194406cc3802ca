// An independent, test-only RFC 9180 base-mode sender for DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256
// + AES-GCM, written from the RFC's pseudocode with noble primitives. It is checked against the
// RFC's published values, then used as an oracle for the AES-256-GCM suite the RFC has no vector for.
import { gcm } from '@noble/ciphers/aes.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, uintToBytes, utf8 } from '../../tee-sim/src/bytes'

const i2osp = (n: number, w: number) => uintToBytes(n, w)
const KEM_SUITE = concatBytes(utf8('KEM'), i2osp(0x20, 2)) // RFC 9180 §4.1
const hpkeSuite = (aeadId: number) => concatBytes(utf8('HPKE'), i2osp(0x20, 2), i2osp(1, 2), i2osp(aeadId, 2)) // §5.1

// RFC 9180 §4: LabeledExtract / LabeledExpand
const labeledExtract = (suite: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array) =>
  extract(sha256, concatBytes(utf8('HPKE-v1'), suite, utf8(label), ikm), salt)
const labeledExpand = (suite: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, L: number) =>
  expand(sha256, prk, concatBytes(i2osp(L, 2), utf8('HPKE-v1'), suite, utf8(label), info), L)

/** RFC 9180 §7.1.3 DeriveKeyPair for X25519. */
export function deriveKeyPair(ikm: Uint8Array): { sk: Uint8Array; pk: Uint8Array } {
  const prk = labeledExtract(KEM_SUITE, new Uint8Array(0), 'dkp_prk', ikm)
  const sk = labeledExpand(KEM_SUITE, prk, 'sk', new Uint8Array(0), 32)
  return { sk, pk: x25519.getPublicKey(sk) }
}

/** RFC 9180 §5.1 SetupBaseS + §5.2 Seal/ComputeNonce + §5.3 Export. */
export function setupBaseSender(pkR: Uint8Array, info: Uint8Array, ikmE: Uint8Array, aead: { id: number; Nk: number }) {
  const e = deriveKeyPair(ikmE)
  const dh = x25519.getSharedSecret(e.sk, pkR)
  const enc = e.pk
  const eaePrk = labeledExtract(KEM_SUITE, new Uint8Array(0), 'eae_prk', dh)
  const sharedSecret = labeledExpand(KEM_SUITE, eaePrk, 'shared_secret', concatBytes(enc, pkR), 32)
  const suite = hpkeSuite(aead.id)
  const empty = new Uint8Array(0)
  const ksc = concatBytes(
    new Uint8Array([0]),
    labeledExtract(suite, empty, 'psk_id_hash', empty),
    labeledExtract(suite, empty, 'info_hash', info),
  )
  const secret = labeledExtract(suite, sharedSecret, 'secret', empty)
  const key = labeledExpand(suite, secret, 'key', ksc, aead.Nk)
  const baseNonce = labeledExpand(suite, secret, 'base_nonce', ksc, 12)
  const exporterSecret = labeledExpand(suite, secret, 'exp', ksc, 32)
  const nonce = (seq: number) => {
    const s = i2osp(seq, 12)
    return baseNonce.map((b, i) => b ^ s[i])
  }
  return {
    enc,
    sharedSecret,
    keyScheduleContext: ksc,
    secret,
    key,
    baseNonce,
    exporterSecret,
    nonce,
    seal: (seq: number, aad: Uint8Array, pt: Uint8Array) => gcm(key, nonce(seq), aad).encrypt(pt),
    export: (ctx: Uint8Array, L: number) => labeledExpand(suite, exporterSecret, 'sec', ctx, L),
  }
}
