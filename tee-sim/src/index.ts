// tee-sim's public door: the client-side protocol for talking to an enclave — quote and receipt
// verification, the chunked AES-256-GCM stream format, HPKE data-key wrapping and EIP-712 helpers.
// Importable in Node, browsers and workerd: nothing here (or below it) imports node: modules.

export * from './errors'
export { base64url, bytesToHex, fromBase64url, hexToBytes, isHex, type Hex } from './bytes'
export { collectBytes, iterateBytes, toReadableStream, type ByteSource } from './byte-source'
export {
  ENCLAVE_QUOTE_TYPES,
  GROUP_RECEIPT_TYPES,
  JOB_RECEIPT_TYPES,
  JOB_REQUEST_TYPES,
  MULTI_JOB_REQUEST_TYPES,
  VENDOR_QUOTE_DOMAIN,
  addressOfSecretKey,
  checksumAddress,
  jobRequestDomain,
  receiptDomain,
  recoverDigestSigner,
  signDigest,
  typedDataDigest,
  type Eip712Domain,
} from './eip712'
export {
  SIMULATED_VENDOR_ROOT_ADDRESS,
  SimulatedVendorQuoteVerifier,
  quoteDigest,
  verifyQuote,
  type AttestationDocument,
  type EnclaveQuote,
  type QuoteVerifier,
  type VerifiedEnclave,
  type VerifyQuoteOptions,
} from './quote'
export {
  groupReceiptDigest,
  receiptDigest,
  verifyGroupReceipt,
  verifyReceipt,
  type GroupReceipt,
  type JobReceipt,
  type ReceiptPart,
  type SignedGroupReceipt,
  type SignedReceipt,
  type VerifyReceiptOptions,
} from './receipt'
export {
  CHUNKED_HEADER_LENGTH,
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  chunkedCiphertextLength,
  decryptChunked,
  encryptChunked,
  webCryptoChunkCipher,
  type ChunkCipher,
  type Parts,
  type ChunkCipherFactory,
  type DecryptOptions,
  type EncryptOptions,
} from './chunked-aead'
export { HPKE_SUITE_ID, hpkeOpen, hpkeSeal, x25519PublicKey } from './hpke'
export {
  DATA_KEY_INFO_LABEL,
  RESULT_INFO_LABEL,
  WRAPPED_DATA_KEY_LENGTH,
  dataKeyInfo,
  openResult,
  sealResult,
  unwrapDataKey,
  wrapDataKey,
  type DataKeyBinding,
} from './key-release'

export { canonicalHash, canonicalJson, queryHashOf } from './canonical-json'
export {
  MAX_JOB_PARTS,
  checkJobRequest,
  checkMultiJobRequest,
  isMultiJobRequest,
  jobIdOf,
  jobRequestDigest,
  jobRequestSigner,
  multiJobIdOf,
  multiJobRequestDigest,
  multiJobRequestSigner,
  type JobPart,
  type JobRequest,
  type MultiJobRequest,
} from './job-request'
export {
  INGEST_RECEIPT_TYPES,
  ingestReceiptDigest,
  ingestReceiptDomain,
  verifyIngestReceipt,
  type IngestReceipt,
  type SignedIngestReceipt,
} from './ingest-receipt'
export { DEFAULT_POLICY, combinePolicies, normalizePolicy, type ColumnPolicy, type PrivacyPolicy } from './policy'
// Shapes of what the enclave host returns (type-only: no enclave code is pulled in).
export type { JobOutput, JobInput } from './enclave/jobs'
export type { MultiJobOutput, MultiJobInput, QueryCheck } from './enclave/multi-jobs'
export type { IngestParams } from './enclave/ingest'
export type { QueryResult, Cell } from './enclave/query/execute'

/**
 * Node only: the measurement of the enclave bundle in a checkout (what `npm run measure` prints).
 * Loaded lazily through a non-literal specifier so bundlers for browsers/workerd never follow it.
 */
export async function measureEnclave(repoRoot?: string): Promise<`0x${string}`> {
  const specifier = './platform/measurement'
  const mod = (await import(/* @vite-ignore */ specifier)) as typeof import('./platform/measurement')
  return mod.computeMeasurement(repoRoot === undefined ? {} : { repoRoot }).measurement
}
