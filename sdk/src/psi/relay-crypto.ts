// End-to-end encryption of the two relayed messages (S: A → B, T: B → A) so that the session server,
// which is also the comparator C, never sees a singly-blinded value: C's view stays U and V only.
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8 } from './bytes'
import type { PsiRole } from './consent'
import type { RandomBytes } from './random'

/** AES-GCM tag length: a relay ciphertext is 32·n + 16 bytes. */
export const RELAY_OVERHEAD = 16

export interface TransportKeyPair {
  secretKey: Uint8Array
  publicKey: Uint8Array
}

/** A fresh X25519 key pair for one session (RFC 7748 §6.1). */
export function generateTransportKey(random: RandomBytes): TransportKeyPair {
  const secretKey = random(32).slice()
  return { secretKey, publicKey: x25519.getPublicKey(secretKey) }
}

// RFC 5869 HKDF-SHA256 over the X25519 shared secret; the key is bound to the session and the
// direction, and each key encrypts exactly one message, so a fixed all-zero GCM nonce is safe
// (NIST SP 800-38D §8.2: a (key, nonce) pair must never repeat).
async function relayKey(own: Uint8Array, peerPublic: Uint8Array, sessionId: Uint8Array, from: PsiRole) {
  const shared = x25519.getSharedSecret(own, peerPublic)
  const okm = hkdf(sha256, shared, sessionId, concatBytes(utf8('Stillflow-PSI-relay-v1 from '), utf8(from)), 32)
  return crypto.subtle.importKey('raw', okm as BufferSource, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

const ZERO_NONCE = new Uint8Array(12)

/** Encrypts our step-1 list for the peer. `from` is our role. */
export async function sealRelay(
  own: TransportKeyPair,
  peerPublic: Uint8Array,
  sessionId: Uint8Array,
  from: PsiRole,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const key = await relayKey(own.secretKey, peerPublic, sessionId, from)
  return new Uint8Array(
    await crypto.subtle.encrypt({ name: 'AES-GCM', iv: ZERO_NONCE }, key, plaintext as BufferSource),
  )
}

/** Decrypts the peer's step-1 list. `from` is the peer's role. Throws if it was altered. */
export async function openRelay(
  own: TransportKeyPair,
  peerPublic: Uint8Array,
  sessionId: Uint8Array,
  from: PsiRole,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  const key = await relayKey(own.secretKey, peerPublic, sessionId, from)
  return new Uint8Array(
    await crypto.subtle.decrypt({ name: 'AES-GCM', iv: ZERO_NONCE }, key, ciphertext as BufferSource),
  )
}
