// The SIMULATED hardware: a platform secret (stands in for fused keys), the vendor root that signs
// quotes, and sealing-key derivation bound to the measurement. A real TEE does all of this in silicon.
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { assertBytes, concatBytes, hexToBytes, utf8, type Hex } from '../bytes'
import { addressOfSecretKey, signDigest } from '../eip712'
import { quoteDigest, type AttestationDocument, type EnclaveQuote } from '../quote'

/**
 * SIMULATED vendor root secret key. PUBLIC DEVELOPMENT KEY: it is derived from a published string,
 * so anyone can forge "quotes" with it. It exists so the whole attestation path runs for real.
 */
export const SIMULATED_VENDOR_ROOT_SECRET_KEY = keccak_256(
  utf8('Stillflow SIMULATED TEE vendor root v1: a public development key, never trust it'),
)

/** What the enclave can ask of its platform (cf. SGX EREPORT/EGETKEY, Nitro NSM). */
export interface Platform {
  /** Measurement of the loaded enclave code, computed by the platform, not claimed by the enclave. */
  readonly measurement: Hex
  /** A 32-byte key only this measurement on this platform can derive. */
  sealingKey(label: string): Uint8Array
  /** Signs a quote over the given statement, inserting the platform's own measurement. */
  quote(statement: Omit<EnclaveQuote, 'measurement'>): AttestationDocument
}

export const SEALING_KEY_INFO = 'stillflow/seal-key/v1'

/** Builds the simulated platform from its secret (32 bytes, kept by the host in dataDir). */
export function createSimulatedPlatform(opts: {
  platformSecret: Uint8Array
  measurement: Hex
  vendorSecretKey?: Uint8Array
}): Platform {
  const secret = assertBytes(opts.platformSecret, 32, 'platform secret').slice()
  const measurement = opts.measurement.toLowerCase() as Hex
  const measurementBytes = hexToBytes(measurement, 32, 'measurement')
  const vendorKey = opts.vendorSecretKey ?? SIMULATED_VENDOR_ROOT_SECRET_KEY
  const vendorRoot = addressOfSecretKey(vendorKey)
  return {
    measurement,
    // RFC 5869 HKDF-SHA256: IKM = platform secret, salt = measurement, info = label. Another build
    // (another measurement) derives an unrelated key, so it cannot unseal this build's state.
    sealingKey(label: string): Uint8Array {
      return hkdf(
        sha256,
        secret,
        measurementBytes,
        concatBytes(utf8(SEALING_KEY_INFO), new Uint8Array([0]), utf8(label)),
        32,
      )
    },
    quote(statement) {
      const quote: EnclaveQuote = { measurement, ...statement }
      return {
        kind: 'stillflow.tee-quote/v1',
        platform: 'SIMULATED',
        quote,
        vendorSignature: signDigest(quoteDigest(quote), vendorKey),
        vendorRoot,
        clusterPublicKey: statement.clusterPublicKey,
      }
    },
  }
}
