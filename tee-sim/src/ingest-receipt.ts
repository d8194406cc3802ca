// The enclave-signed ingest receipt (EIP-712): which plaintext (content hash) was ingested, with
// which schema, DP statistics and privacy policy, by which enclave build. Listings show it.
import { isHex, type Hex } from './bytes'
import { canonicalHash } from './canonical-json'
import { isAddress, recoverDigestSigner, sameAddress, typedDataDigest, type Eip712Domain } from './eip712'
import { ReceiptVerificationError } from './errors'

export const INGEST_RECEIPT_TYPES = {
  IngestReceipt: [
    { name: 'contentHash', type: 'bytes32' },
    { name: 'schemaHash', type: 'bytes32' },
    { name: 'statisticsHash', type: 'bytes32' },
    { name: 'policyHash', type: 'bytes32' },
    { name: 'noisyRowCount', type: 'uint64' },
    { name: 'measurement', type: 'bytes32' },
  ],
} as const

export function ingestReceiptDomain(chainId: bigint | number, dataAssetNft: string): Eip712Domain {
  return { name: 'Stillflow Enclave Ingest', version: '1', chainId, verifyingContract: dataAssetNft }
}

export interface IngestReceipt {
  contentHash: Hex
  schemaHash: Hex
  statisticsHash: Hex
  policyHash: Hex
  noisyRowCount: number
  measurement: Hex
}

/** What `POST /ingest` returns. */
export interface SignedIngestReceipt {
  receipt: IngestReceipt
  signature: Hex
  signer: Hex
  chainId: number
  dataAssetNft: Hex
  format: 'csv' | 'jsonl'
  schema: { name: string; type: string }[]
  statistics: unknown
  policy: unknown
}

export function ingestReceiptDigest(r: IngestReceipt, chainId: number, dataAssetNft: string): Uint8Array {
  return typedDataDigest(
    ingestReceiptDomain(chainId, dataAssetNft),
    INGEST_RECEIPT_TYPES,
    r as unknown as Record<string, unknown>,
  )
}

/**
 * Verifies an ingest receipt: the hashes match the schema, statistics and policy shipped with it,
 * and the signature is by `signed.signer` (and one of `trustedSigners`, when given).
 */
export function verifyIngestReceipt(
  signed: SignedIngestReceipt,
  opts: { trustedSigners?: string[]; expectedMeasurement?: string } = {},
): IngestReceipt {
  const r = signed?.receipt
  if (!r || typeof r !== 'object') throw new ReceiptVerificationError('ingest receipt missing')
  for (const k of ['contentHash', 'schemaHash', 'statisticsHash', 'policyHash', 'measurement'] as const) {
    if (!isHex(r[k], 32)) throw new ReceiptVerificationError(`ingest receipt ${k} must be 32 bytes of hex`)
  }
  if (!isAddress(signed.signer) || !isAddress(signed.dataAssetNft))
    throw new ReceiptVerificationError('signer and dataAssetNft must be addresses')
  if (canonicalHash(signed.schema) !== r.schemaHash)
    throw new ReceiptVerificationError('schema does not match schemaHash')
  if (canonicalHash(signed.statistics) !== r.statisticsHash)
    throw new ReceiptVerificationError('statistics do not match statisticsHash')
  if (canonicalHash(signed.policy) !== r.policyHash)
    throw new ReceiptVerificationError('policy does not match policyHash')
  let who: string
  try {
    who = recoverDigestSigner(ingestReceiptDigest(r, signed.chainId, signed.dataAssetNft), signed.signature)
  } catch (cause) {
    throw new ReceiptVerificationError('ingest receipt signature is malformed', { cause })
  }
  if (!sameAddress(who, signed.signer))
    throw new ReceiptVerificationError('ingest receipt is not signed by the named signer')
  if (opts.trustedSigners && !opts.trustedSigners.some((s) => sameAddress(s, who)))
    throw new ReceiptVerificationError('ingest receipt signer is not trusted')
  if (opts.expectedMeasurement && opts.expectedMeasurement.toLowerCase() !== r.measurement.toLowerCase()) {
    throw new ReceiptVerificationError('ingest receipt measurement is not the expected one')
  }
  return r
}
