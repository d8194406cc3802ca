// The enclave-signed job receipt (EIP-712, checked by ComputeLedger.recordReceipt) and its verification.
import { isHex, type Hex } from './bytes'
import {
  GROUP_RECEIPT_TYPES,
  JOB_RECEIPT_TYPES,
  isAddress,
  receiptDomain,
  recoverDigestSigner,
  sameAddress,
  typedDataDigest,
} from './eip712'
import { ReceiptVerificationError } from './errors'

/** Fields exactly as in the contract's `JobReceipt` struct; uint256 as a decimal string in JSON. */
export interface JobReceipt {
  jobId: Hex
  licenceId: string
  contentHash: Hex
  queryHash: Hex
  resultHash: Hex
  epsilonSpentMilli: number
  measurement: Hex
}

export interface SignedReceipt {
  receipt: JobReceipt
  /** r ‖ s ‖ v by the enclave signer. */
  signature: Hex
  /** The enclave signer address (as attested in its quote). */
  signer: Hex
  chainId: number
  computeLedger: Hex
}

export function receiptDigest(receipt: JobReceipt, chainId: bigint | number, computeLedger: string): Uint8Array {
  return typedDataDigest(
    receiptDomain(chainId, computeLedger),
    JOB_RECEIPT_TYPES,
    receipt as unknown as Record<string, unknown>,
  )
}

function checkShape(r: unknown): JobReceipt {
  const x = r as JobReceipt
  if (typeof r !== 'object' || r === null) throw new ReceiptVerificationError('receipt missing')
  for (const k of ['jobId', 'contentHash', 'queryHash', 'resultHash', 'measurement'] as const) {
    if (!isHex(x[k], 32)) throw new ReceiptVerificationError(`receipt.${k} must be 32 bytes of hex`)
  }
  if (typeof x.licenceId !== 'string' || !/^[0-9]{1,78}$/.test(x.licenceId)) {
    throw new ReceiptVerificationError('receipt.licenceId must be a decimal string')
  }
  if (!Number.isSafeInteger(x.epsilonSpentMilli) || x.epsilonSpentMilli < 0) {
    throw new ReceiptVerificationError('receipt.epsilonSpentMilli must be a non-negative integer')
  }
  return x
}

export interface VerifyReceiptOptions {
  /** Enclave signer addresses the caller trusts (from verified quotes or EnclaveRegistry). */
  trustedSigners?: string[]
  /** Measurements the caller accepts (from EnclaveRegistry or `npm run measure`). */
  expectedMeasurement?: string
  chainId?: number
  computeLedger?: string
}

/** The signer, chain and ledger fields of a signed (group) receipt, against what the caller trusts. */
function checkEnvelope(signed: Omit<SignedReceipt, 'receipt'>, opts: VerifyReceiptOptions): void {
  if (!isAddress(signed.signer)) throw new ReceiptVerificationError('signer must be an address')
  if (!isAddress(signed.computeLedger)) throw new ReceiptVerificationError('computeLedger must be an address')
  if (!Number.isSafeInteger(signed.chainId) || signed.chainId <= 0)
    throw new ReceiptVerificationError('chainId must be a positive integer')
  if (opts.chainId !== undefined && opts.chainId !== signed.chainId)
    throw new ReceiptVerificationError('receipt is for another chain')
  if (opts.computeLedger !== undefined && !sameAddress(opts.computeLedger, signed.computeLedger)) {
    throw new ReceiptVerificationError('receipt is for another ComputeLedger')
  }
}

/** The recovered signer is the named one, trusted, and signed the expected measurement. */
function checkSigner(recovered: string, named: string, measurement: string, opts: VerifyReceiptOptions): void {
  if (!sameAddress(recovered, named)) throw new ReceiptVerificationError('receipt signature is not by the named signer')
  if (opts.trustedSigners && !opts.trustedSigners.some((s) => sameAddress(s, recovered))) {
    throw new ReceiptVerificationError('receipt signer is not a trusted enclave', { details: recovered })
  }
  if (opts.expectedMeasurement !== undefined && opts.expectedMeasurement.toLowerCase() !== measurement.toLowerCase()) {
    throw new ReceiptVerificationError('receipt measurement is not the expected one')
  }
}

/**
 * Verifies a signed receipt: shape, EIP-712 signature by `signed.signer`, and optionally that the
 * signer, measurement, chain and ledger are the ones the caller trusts. Returns the receipt.
 */
export function verifyReceipt(signed: SignedReceipt, opts: VerifyReceiptOptions = {}): JobReceipt {
  if (typeof signed !== 'object' || signed === null) throw new ReceiptVerificationError('signed receipt missing')
  const receipt = checkShape(signed.receipt)
  checkEnvelope(signed, opts)
  let recovered: string
  try {
    recovered = recoverDigestSigner(receiptDigest(receipt, signed.chainId, signed.computeLedger), signed.signature)
  } catch (cause) {
    throw new ReceiptVerificationError('receipt signature is malformed', { cause })
  }
  checkSigner(recovered, signed.signer, receipt.measurement, opts)
  return receipt
}

// ---- Receipt of a job across assets (ComputeLedger.recordGroupReceipt; R67) ---------------------

/** One licence's share of a group job, exactly as the contract's `ReceiptPart`. */
export interface ReceiptPart {
  licenceId: string
  contentHash: Hex
  epsilonSpentMilli: number
}

/** Fields exactly as the contract's `GroupReceipt`: one signature covers every part. */
export interface GroupReceipt {
  jobId: Hex
  queryHash: Hex
  resultHash: Hex
  measurement: Hex
  parts: ReceiptPart[]
}

export interface SignedGroupReceipt extends Omit<SignedReceipt, 'receipt'> {
  receipt: GroupReceipt
}

export function groupReceiptDigest(receipt: GroupReceipt, chainId: bigint | number, computeLedger: string): Uint8Array {
  return typedDataDigest(
    receiptDomain(chainId, computeLedger),
    GROUP_RECEIPT_TYPES,
    receipt as unknown as Record<string, unknown>,
  )
}

function checkGroupShape(r: unknown): GroupReceipt {
  const x = r as GroupReceipt
  if (typeof r !== 'object' || r === null) throw new ReceiptVerificationError('receipt missing')
  for (const k of ['jobId', 'queryHash', 'resultHash', 'measurement'] as const) {
    if (!isHex(x[k], 32)) throw new ReceiptVerificationError(`receipt.${k} must be 32 bytes of hex`)
  }
  if (!Array.isArray(x.parts) || x.parts.length < 2)
    throw new ReceiptVerificationError('receipt.parts must list 2 or more parts')
  for (const p of x.parts)
    checkShape({ ...p, jobId: x.jobId, queryHash: x.queryHash, resultHash: x.resultHash, measurement: x.measurement })
  return x
}

/** Verifies a signed group receipt like `verifyReceipt` does a single one. Returns the receipt. */
export function verifyGroupReceipt(signed: SignedGroupReceipt, opts: VerifyReceiptOptions = {}): GroupReceipt {
  if (typeof signed !== 'object' || signed === null) throw new ReceiptVerificationError('signed receipt missing')
  const receipt = checkGroupShape(signed.receipt)
  checkEnvelope(signed, opts)
  let recovered: string
  try {
    recovered = recoverDigestSigner(groupReceiptDigest(receipt, signed.chainId, signed.computeLedger), signed.signature)
  } catch (cause) {
    throw new ReceiptVerificationError('receipt signature is malformed', { cause })
  }
  checkSigner(recovered, signed.signer, receipt.measurement, opts)
  return receipt
}
