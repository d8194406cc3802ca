// Sealing: authenticated encryption of enclave state under a platform-derived, measurement-bound key
// (cf. SGX sealing with MRENCLAVE policy). Tampering, another label or another build is detected.
//
// Envelope: "SFSL" ‖ 0x01 ‖ nonce (12) ‖ AES-256-GCM(key, nonce, aad, plaintext)   (NIST SP 800-38D)
//   aad = "SFSL" ‖ 0x01 ‖ utf8(label)
import { gcm } from '@noble/ciphers/aes.js'
import { assertBytes, concatBytes, utf8 } from '../bytes'
import { UnsealError } from '../errors'
import type { EnclaveRuntime } from './runtime'

const MAGIC = utf8('SFSL')
const VERSION = 1
const HEADER = MAGIC.length + 1
const NONCE = 12

function aad(label: string): Uint8Array {
  return concatBytes(MAGIC, new Uint8Array([VERSION]), utf8(label))
}

/** Seals `plaintext` under `key` (from Platform.sealingKey) for `label`. */
export function seal(
  key: Uint8Array,
  label: string,
  plaintext: Uint8Array,
  rt: Pick<EnclaveRuntime, 'randomBytes'>,
): Uint8Array {
  assertBytes(key, 32, 'sealing key')
  const nonce = assertBytes(rt.randomBytes(NONCE), NONCE, 'nonce')
  const ct = gcm(key, nonce, aad(label)).encrypt(plaintext)
  return concatBytes(MAGIC, new Uint8Array([VERSION]), nonce, ct)
}

/** Opens a sealed blob; throws UnsealError if it was tampered with or sealed by another build/platform/label. */
export function unseal(key: Uint8Array, label: string, sealed: Uint8Array): Uint8Array {
  assertBytes(key, 32, 'sealing key')
  if (!(sealed instanceof Uint8Array) || sealed.length < HEADER + NONCE + 16)
    throw new UnsealError('sealed blob is too short')
  for (let i = 0; i < MAGIC.length; i++)
    if (sealed[i] !== MAGIC[i]) throw new UnsealError('not a sealed blob (bad magic)')
  if (sealed[MAGIC.length] !== VERSION) throw new UnsealError(`unsupported sealed blob version ${sealed[MAGIC.length]}`)
  try {
    return gcm(key, sealed.subarray(HEADER, HEADER + NONCE), aad(label)).decrypt(sealed.subarray(HEADER + NONCE))
  } catch (cause) {
    throw new UnsealError('sealed blob does not open: tampered, or sealed by another build or platform', { cause })
  }
}
