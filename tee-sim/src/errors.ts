// The one error shape of tee-sim: a base class with shortMessage/details/cause and one subclass per
// condition. Never HTTP-aware; the host (and the worker) translate these at their edges.

/** Base class of every error tee-sim throws on purpose. */
export class EnclaveError extends Error {
  override name = 'EnclaveError'
  readonly shortMessage: string
  readonly details?: string
  constructor(shortMessage: string, opts: { cause?: unknown; details?: string } = {}) {
    super([shortMessage, opts.details].filter(Boolean).join('\n'), { cause: opts.cause })
    this.shortMessage = shortMessage
    this.details = opts.details
  }
}

/** Malformed bytes, hex, lengths or shapes handed to a public function. */
export class InvalidInputError extends EnclaveError {
  override name = 'InvalidInputError'
}
/**
 * An ingest without the owner's signed declaration: the enclave enforces only a policy its owner signed,
 * else whoever ingested first — the untrusted operator, holding the owner's wrapped key — would set it.
 */
export class OwnerProofRequiredError extends InvalidInputError {
  override name = 'OwnerProofRequiredError'
}
/** A quote whose signature, vendor root, measurement or nonce does not check out. */
export class QuoteVerificationError extends EnclaveError {
  override name = 'QuoteVerificationError'
}
/** A receipt whose signature or signer does not check out. */
export class ReceiptVerificationError extends EnclaveError {
  override name = 'ReceiptVerificationError'
}
/** An AEAD chunk stream that was tampered with, reordered, truncated or extended. */
export class CiphertextIntegrityError extends EnclaveError {
  override name = 'CiphertextIntegrityError'
}
/** A wrapped data key that does not open under this cluster key and binding. */
export class KeyUnwrapError extends EnclaveError {
  override name = 'KeyUnwrapError'
}
/** A sealed blob that does not open: tampered, or sealed by another build or platform. */
export class UnsealError extends EnclaveError {
  override name = 'UnsealError'
}
/** Decrypted plaintext whose SHA-256 differs from the claimed content hash. */
export class ContentHashMismatchError extends EnclaveError {
  override name = 'ContentHashMismatchError'
}
/** Plaintext that is not valid CSV / JSON lines, or exceeds row/column limits. */
export class DatasetFormatError extends EnclaveError {
  override name = 'DatasetFormatError'
}
/** SQL that does not parse or is outside the supported subset. */
export class QueryRejectedError extends EnclaveError {
  override name = 'QueryRejectedError'
}
/** A query the owner's privacy policy does not allow. */
export class PolicyViolationError extends EnclaveError {
  override name = 'PolicyViolationError'
}
/** A query that would spend more ε than the licence has left; refused before it runs. */
export class BudgetExhaustedError extends EnclaveError {
  override name = 'BudgetExhaustedError'
}
/** The licence is missing, expired, out of jobs, for another asset, or not the requester's. */
export class LicenceInvalidError extends EnclaveError {
  override name = 'LicenceInvalidError'
}
/** The asset is not minted, is revoked or is frozen. */
export class AssetUnavailableError extends EnclaveError {
  override name = 'AssetUnavailableError'
}
/** A signed request whose signature, signer or deadline does not check out. */
export class RequestSignatureError extends EnclaveError {
  override name = 'RequestSignatureError'
}
/** The chain could not be read; the enclave refuses rather than guessing. */
export class ChainUnavailableError extends EnclaveError {
  override name = 'ChainUnavailableError'
}
/** This enclave's measurement is not approved on chain. */
export class MeasurementNotApprovedError extends EnclaveError {
  override name = 'MeasurementNotApprovedError'
}
/** Unknown asset (no ingest and no wrapped key supplied). */
export class UnknownAssetError extends EnclaveError {
  override name = 'UnknownAssetError'
}
