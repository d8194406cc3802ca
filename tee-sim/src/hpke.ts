// HPKE (RFC 9180) in one suite — DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, base mode —
// used to wrap data keys to the enclave cluster key and to encrypt job results to the buyer.
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core'
import { x25519 } from '@noble/curves/ed25519.js'
import { assertBytes, concatBytes, hexToBytes, toArrayBuffer } from './bytes'
import { InvalidInputError, KeyUnwrapError } from './errors'

// RFC 9180 §7: KEM 0x0020, KDF 0x0001, AEAD 0x0002.
export const HPKE_SUITE_ID = { kem: 0x0020, kdf: 0x0001, aead: 0x0002 } as const
/** Nenc for DHKEM(X25519) (RFC 9180 §7.1) and the AES-GCM tag length. */
export const HPKE_ENC_LENGTH = 32
export const HPKE_TAG_LENGTH = 16

export function hpkeSuite(): CipherSuite {
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() })
}

const suite = hpkeSuite()

/** X25519 public key of a 32-byte secret (RFC 7748 §6.1). */
export function x25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(assertBytes(secretKey, 32, 'X25519 secret key'))
}

function keyBytes(key: Uint8Array | string, what: string): Uint8Array {
  return typeof key === 'string' ? hexToBytes(key, 32, what) : assertBytes(key, 32, what)
}

/**
 * Single-shot HPKE seal (RFC 9180 §6.1, base mode). Returns enc ‖ ciphertext.
 * `ikmE` (32 bytes) makes the ephemeral key deterministic — for injected randomness and KATs only.
 */
export async function hpkeSeal(
  recipientPublicKey: Uint8Array | string,
  info: Uint8Array,
  plaintext: Uint8Array,
  opts: { aad?: Uint8Array; ikmE?: Uint8Array } = {},
): Promise<Uint8Array> {
  const pk = await suite.kem.importKey('raw', toArrayBuffer(keyBytes(recipientPublicKey, 'recipient public key')), true)
  const ctx = await suite.createSenderContext({
    recipientPublicKey: pk,
    info: toArrayBuffer(info),
    ...(opts.ikmE ? { ekm: toArrayBuffer(assertBytes(opts.ikmE, 32, 'ikmE')) } : {}),
  })
  const ct = await ctx.seal(toArrayBuffer(plaintext), opts.aad ? toArrayBuffer(opts.aad) : undefined)
  return concatBytes(new Uint8Array(ctx.enc), new Uint8Array(ct))
}

/** Single-shot HPKE open of enc ‖ ciphertext; throws KeyUnwrapError if it does not authenticate. */
export async function hpkeOpen(
  recipientSecretKey: Uint8Array,
  info: Uint8Array,
  sealed: Uint8Array,
  opts: { aad?: Uint8Array } = {},
): Promise<Uint8Array> {
  if (sealed.length < HPKE_ENC_LENGTH + HPKE_TAG_LENGTH) throw new InvalidInputError('HPKE ciphertext is too short')
  const sk = await suite.kem.importKey(
    'raw',
    toArrayBuffer(assertBytes(recipientSecretKey, 32, 'recipient secret key')),
    false,
  )
  try {
    const ctx = await suite.createRecipientContext({
      recipientKey: sk,
      enc: toArrayBuffer(sealed.subarray(0, HPKE_ENC_LENGTH)),
      info: toArrayBuffer(info),
    })
    return new Uint8Array(
      await ctx.open(toArrayBuffer(sealed.subarray(HPKE_ENC_LENGTH)), opts.aad ? toArrayBuffer(opts.aad) : undefined),
    )
  } catch (cause) {
    throw new KeyUnwrapError('HPKE ciphertext does not open with this key and info', { cause })
  }
}
