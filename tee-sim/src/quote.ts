// Attestation evidence (the quote) and its verification behind `QuoteVerifier`, so a Nitro, TDX or
// SEV-SNP verifier can replace the SIMULATED vendor root without changing callers.
import { isHex, type Hex } from './bytes'
import {
  ENCLAVE_QUOTE_TYPES,
  VENDOR_QUOTE_DOMAIN,
  isAddress,
  recoverDigestSigner,
  sameAddress,
  typedDataDigest,
  checksumAddress,
} from './eip712'
import { EnclaveError, QuoteVerificationError } from './errors'

/**
 * Address of the SIMULATED vendor root: a public development key standing in for a hardware
 * vendor's attestation root. Anyone can sign with it; it proves nothing outside a simulation.
 */
export const SIMULATED_VENDOR_ROOT_ADDRESS = '0xe4710517E057dA69e94b97DE7071D8adb1e719fb' as const

/** The attested statement: which code (measurement) holds which keys, fresh for which nonce. */
export interface EnclaveQuote {
  /** SHA-256 of the enclave bundle (see tee-sim/README.md). */
  measurement: Hex
  /** The enclave's secp256k1 signer address (signs receipts). */
  signer: Hex
  /** The enclave cluster's X25519 HPKE public key (data keys are wrapped to it). */
  clusterPublicKey: Hex
  /** Verifier-chosen 32-byte nonce, echoed for freshness. */
  nonce: Hex
  /** Unix seconds. */
  issuedAt: number
}

/** What `GET /attestation` returns. */
export interface AttestationDocument {
  kind: 'stillflow.tee-quote/v1'
  /** Always 'SIMULATED' for tee-sim; a real platform names itself (e.g. 'aws-nitro'). */
  platform: 'SIMULATED'
  quote: EnclaveQuote
  /** EIP-712 signature (r ‖ s ‖ v) by the vendor root over `quote`. */
  vendorSignature: Hex
  /** The root that signed; informational only — verifiers use their own trusted root. */
  vendorRoot: Hex
  clusterPublicKey: Hex
}

/** A quote whose evidence checked out. */
export interface VerifiedEnclave {
  platform: string
  measurement: Hex
  signer: Hex
  clusterPublicKey: Hex
  nonce: Hex
  issuedAt: number
}

/** Verifies one platform's attestation evidence (signature chain and shape only). */
export interface QuoteVerifier {
  readonly platform: string
  verify(document: unknown): Promise<VerifiedEnclave>
}

/** EIP-712 digest of a quote under the vendor domain. */
export function quoteDigest(quote: EnclaveQuote): Uint8Array {
  return typedDataDigest(VENDOR_QUOTE_DOMAIN, ENCLAVE_QUOTE_TYPES, quote as unknown as Record<string, unknown>)
}

function checkQuoteShape(q: unknown): EnclaveQuote {
  const quote = q as EnclaveQuote
  if (typeof q !== 'object' || q === null) throw new QuoteVerificationError('quote missing')
  if (!isHex(quote.measurement, 32)) throw new QuoteVerificationError('quote.measurement must be 32 bytes of hex')
  if (!isAddress(quote.signer)) throw new QuoteVerificationError('quote.signer must be an address')
  if (!isHex(quote.clusterPublicKey, 32))
    throw new QuoteVerificationError('quote.clusterPublicKey must be 32 bytes of hex')
  if (!isHex(quote.nonce, 32)) throw new QuoteVerificationError('quote.nonce must be 32 bytes of hex')
  if (!Number.isSafeInteger(quote.issuedAt) || quote.issuedAt < 0) {
    throw new QuoteVerificationError('quote.issuedAt must be unix seconds')
  }
  return quote
}

/** Verifies quotes signed by the SIMULATED vendor root (or another secp256k1 root in tests). */
export class SimulatedVendorQuoteVerifier implements QuoteVerifier {
  readonly platform = 'SIMULATED'
  constructor(private readonly vendorRoot: string = SIMULATED_VENDOR_ROOT_ADDRESS) {}

  async verify(document: unknown): Promise<VerifiedEnclave> {
    const doc = document as AttestationDocument
    if (typeof doc !== 'object' || doc === null || doc.kind !== 'stillflow.tee-quote/v1') {
      throw new QuoteVerificationError('not a stillflow quote document')
    }
    if (doc.platform !== 'SIMULATED')
      throw new QuoteVerificationError(`platform ${String(doc.platform)} is not SIMULATED`)
    const quote = checkQuoteShape(doc.quote)
    if (
      doc.clusterPublicKey !== undefined &&
      doc.clusterPublicKey.toLowerCase() !== quote.clusterPublicKey.toLowerCase()
    ) {
      throw new QuoteVerificationError('clusterPublicKey differs from the quoted one')
    }
    let signer: string
    try {
      signer = recoverDigestSigner(quoteDigest(quote), doc.vendorSignature)
    } catch (cause) {
      throw new QuoteVerificationError('vendor signature is malformed', { cause })
    }
    if (!sameAddress(signer, this.vendorRoot)) {
      throw new QuoteVerificationError('quote is not signed by the trusted vendor root', {
        details: `signed by ${signer}`,
      })
    }
    return {
      platform: this.platform,
      measurement: quote.measurement.toLowerCase() as Hex,
      signer: checksumAddress(quote.signer),
      clusterPublicKey: quote.clusterPublicKey.toLowerCase() as Hex,
      nonce: quote.nonce.toLowerCase() as Hex,
      issuedAt: quote.issuedAt,
    }
  }
}

export interface VerifyQuoteOptions {
  /** Defaults to the SIMULATED vendor root verifier. */
  verifier?: QuoteVerifier
  /** The nonce the caller sent; required for freshness unless `allowAnyNonce`. */
  expectedNonce?: string
  allowAnyNonce?: boolean
  /** Pin one measurement (e.g. from `npm run measure`). */
  expectedMeasurement?: string
  /** Ask the chain (EnclaveRegistry.isMeasurementApproved) or any allow-list. */
  isMeasurementApproved?: (measurement: Hex) => Promise<boolean> | boolean
  /** Current unix seconds and the accepted age; both needed to check age. */
  now?: number
  maxAgeSeconds?: number
}

/**
 * Verifies attestation evidence and the caller's policy on it: signature chain, nonce, measurement
 * pin or approval, age. Throws QuoteVerificationError (or MeasurementNotApprovedError) on failure.
 *
 * @example
 * const enclave = await verifyQuote(await (await fetch(`${url}/attestation?nonce=${n}`)).json(), {
 *   expectedNonce: n, isMeasurementApproved: (m) => registry.isMeasurementApproved(m) })
 */
export async function verifyQuote(document: unknown, opts: VerifyQuoteOptions = {}): Promise<VerifiedEnclave> {
  const verifier = opts.verifier ?? new SimulatedVendorQuoteVerifier()
  const v = await verifier.verify(document)
  if (!opts.allowAnyNonce) {
    if (!isHex(opts.expectedNonce, 32))
      throw new QuoteVerificationError('expectedNonce (32 bytes) is required for freshness')
    if (opts.expectedNonce.toLowerCase() !== v.nonce) throw new QuoteVerificationError('quote nonce does not match')
  }
  if (opts.expectedMeasurement !== undefined && opts.expectedMeasurement.toLowerCase() !== v.measurement) {
    throw new QuoteVerificationError('measurement does not match the expected build', {
      details: `quoted ${v.measurement}, expected ${opts.expectedMeasurement}`,
    })
  }
  if (opts.isMeasurementApproved) {
    let approved: boolean
    try {
      approved = await opts.isMeasurementApproved(v.measurement)
    } catch (cause) {
      throw new QuoteVerificationError('could not check measurement approval', { cause })
    }
    if (!approved) throw new QuoteVerificationError('measurement is not approved', { details: v.measurement })
  }
  if (opts.maxAgeSeconds !== undefined) {
    if (opts.now === undefined) throw new EnclaveError('verifyQuote: maxAgeSeconds needs now')
    if (v.issuedAt > opts.now + 60) throw new QuoteVerificationError('quote is issued in the future')
    if (opts.now - v.issuedAt > opts.maxAgeSeconds) throw new QuoteVerificationError('quote is too old')
  }
  return v
}
