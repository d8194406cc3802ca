// The public door of contracts/: ABIs and bytecode, the address book, deployment, and the EIP-712
// domains and types, so the enclave, the worker and the site sign exactly what the contracts verify.
import { id, ZeroHash, type TypedDataDomain, type TypedDataField } from 'ethers'

export {
  computeLedgerAbi,
  computeLedgerBytecode,
  dataAssetNftAbi,
  dataAssetNftBytecode,
  dataMarketAbi,
  dataMarketBytecode,
  enclaveRegistryAbi,
  enclaveRegistryBytecode,
  ledgerAnchorAbi,
  ledgerAnchorBytecode,
  psiComparatorAbi,
  psiComparatorBytecode,
} from './generated'
export { deployStillflow, DEFAULT_MAX_QUOTE_AGE_SECONDS } from './deploy'
export type { AddressBook, DeployOptions } from './deploy'

/** Role identifiers (keccak256 of the name), as the contracts' `*_ROLE()` getters return them. */
export const ROLES = {
  admin: ZeroHash,
  relayer: id('RELAYER_ROLE'),
  supervisor: id('SUPERVISOR_ROLE'),
  ledger: id('LEDGER_ROLE'),
} as const

/** The zero address as the currency of an offer priced in the chain's native currency. */
export const NATIVE_CURRENCY = '0x0000000000000000000000000000000000000000'

// ---- Vendor quote (EnclaveRegistry.registerEnclave) -------------------------------------------

/** The (SIMULATED) TEE vendor's domain: no chainId or verifyingContract — the vendor attests a machine. */
export const enclaveQuoteDomain = {
  name: 'Stillflow SIMULATED TEE Vendor',
  version: '1',
} as const satisfies TypedDataDomain

/** `EnclaveQuote(bytes32 measurement,address signer,bytes32 clusterPublicKey,bytes32 nonce,uint64 issuedAt)` */
export const enclaveQuoteTypes = {
  EnclaveQuote: [
    { name: 'measurement', type: 'bytes32' },
    { name: 'signer', type: 'address' },
    { name: 'clusterPublicKey', type: 'bytes32' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'issuedAt', type: 'uint64' },
  ],
} as const satisfies Record<string, TypedDataField[]>

/** The message a vendor quote signs (`issuedAt` in Unix seconds). */
export interface EnclaveQuote {
  measurement: string
  signer: string
  clusterPublicKey: string
  nonce: string
  issuedAt: bigint | number
}

// ---- Job receipt (ComputeLedger.recordReceipt) ------------------------------------------------

/** The ComputeLedger's domain on one chain. */
export function jobReceiptDomain(chainId: bigint | number, computeLedger: string): TypedDataDomain {
  return { name: 'Stillflow ComputeLedger', version: '1', chainId, verifyingContract: computeLedger }
}

/**
 * `JobReceipt(bytes32 jobId,uint256 licenceId,bytes32 contentHash,bytes32 queryHash,bytes32 resultHash,uint64 epsilonSpentMilli,bytes32 measurement)`
 */
export const jobReceiptTypes = {
  JobReceipt: [
    { name: 'jobId', type: 'bytes32' },
    { name: 'licenceId', type: 'uint256' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'queryHash', type: 'bytes32' },
    { name: 'resultHash', type: 'bytes32' },
    { name: 'epsilonSpentMilli', type: 'uint64' },
    { name: 'measurement', type: 'bytes32' },
  ],
} as const satisfies Record<string, TypedDataField[]>

/** The message an enclave signs after a job (ε in thousandths: 1 ε = 1000). */
export interface JobReceipt {
  jobId: string
  licenceId: bigint | number
  contentHash: string
  queryHash: string
  resultHash: string
  epsilonSpentMilli: bigint | number
  measurement: string
}

// ---- Group receipt (ComputeLedger.recordGroupReceipt; R67) ---------------------------------------

/**
 * `GroupReceipt(bytes32 jobId,bytes32 queryHash,bytes32 resultHash,bytes32 measurement,ReceiptPart[] parts)`
 * `ReceiptPart(uint256 licenceId,bytes32 contentHash,uint64 epsilonSpentMilli)`: one enclave signature
 * over every part of a job across assets, so its parts are recorded (and charged) all together or not at all.
 */
export const groupReceiptTypes = {
  GroupReceipt: [
    { name: 'jobId', type: 'bytes32' },
    { name: 'queryHash', type: 'bytes32' },
    { name: 'resultHash', type: 'bytes32' },
    { name: 'measurement', type: 'bytes32' },
    { name: 'parts', type: 'ReceiptPart[]' },
  ],
  ReceiptPart: [
    { name: 'licenceId', type: 'uint256' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'epsilonSpentMilli', type: 'uint64' },
  ],
} as const satisfies Record<string, TypedDataField[]>

// ---- Publish (DataAssetNFT.mintWithSignature) -------------------------------------------------

/** The DataAssetNFT's domain on one chain. */
export function publishDomain(chainId: bigint | number, dataAssetNft: string): TypedDataDomain {
  return { name: 'Stillflow DataAssetNFT', version: '1', chainId, verifyingContract: dataAssetNft }
}

/** `Publish(address owner,bytes32 contentHash,bytes32 metadataDigest,uint256 deadline)` */
export const publishTypes = {
  Publish: [
    { name: 'owner', type: 'address' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'metadataDigest', type: 'bytes32' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const satisfies Record<string, TypedDataField[]>

/**
 * The message an owner signs to publish. `contentHash` is the SHA-256 of the plaintext dataset;
 * `metadataDigest` the SHA-256 of the metadata JSON, stored on IPFS as one raw block, so that
 * `tokenURI` = `ipfs://` + CIDv1(raw, sha2-256, base32) of it; `deadline` in Unix seconds.
 */
export interface Publish {
  owner: string
  contentHash: string
  metadataDigest: string
  deadline: bigint | number
}

/**
 * `UploadIntent(address owner,uint256 size,bytes32 nonce,uint256 deadline)`, signed under the
 * DataAssetNFT's domain but never sent on chain: an owner asks the marketplace for an upload ticket
 * before the ciphertext's CID is known, so a publish can encrypt, hash and upload in one pass (issue 5).
 * The type name separates it from `Publish`; the nonce becomes the single-use ticket's id.
 */
export const uploadIntentTypes = {
  UploadIntent: [
    { name: 'owner', type: 'address' },
    { name: 'size', type: 'uint256' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const satisfies Record<string, TypedDataField[]>

// ---- Offers and licences ----------------------------------------------------------------------

/** Terms an owner puts on sale (`DataMarket.setOffer`). Currency zero = native. ε in milli-ε. */
export interface OfferTerms {
  price: bigint
  currency: string
  duration: bigint | number
  maxJobs: bigint | number
  epsilonBudgetMilli: bigint | number
  purposes: bigint | number
}
