// The buyer's signed job request (EIP-712) and the job id derived from it, shared by the site/CLI
// that sign it, the worker that forwards it, and the enclave that checks it itself (R58).
import { bytesToHex, isHex, type Hex } from './bytes'
import {
  JOB_REQUEST_TYPES,
  MULTI_JOB_REQUEST_TYPES,
  jobRequestDomain,
  recoverDigestSigner,
  typedDataDigest,
} from './eip712'
import { InvalidInputError, RequestSignatureError } from './errors'

export interface JobRequest {
  /** uint256 as a decimal string. */
  licenceId: string
  contentHash: Hex
  /** keccak256(utf8(query)). */
  queryHash: Hex
  /** The buyer's X25519 public key the result is encrypted to. */
  resultPublicKey: Hex
  nonce: Hex
  /** Unix seconds. */
  deadline: number
}

/** A licence id as EIP-712 encodes it: a decimal uint256, positive, without leading zeros. */
const isLicenceId = (v: unknown): v is string =>
  typeof v === 'string' && /^[1-9][0-9]{0,77}$/.test(v) && BigInt(v) < 1n << 256n

export function checkJobRequest(r: unknown): JobRequest {
  const x = r as JobRequest
  if (typeof r !== 'object' || r === null) throw new InvalidInputError('request must be an object')
  if (!isLicenceId(x.licenceId))
    throw new InvalidInputError('request.licenceId must be a positive decimal string below 2^256')
  for (const k of ['contentHash', 'queryHash', 'resultPublicKey', 'nonce'] as const) {
    if (!isHex(x[k], 32)) throw new InvalidInputError(`request.${k} must be 32 bytes of 0x hex`)
  }
  if (!Number.isSafeInteger(x.deadline) || x.deadline <= 0)
    throw new InvalidInputError('request.deadline must be unix seconds')
  return x
}

/** The EIP-712 digest of a job request; it is also the job id (unique per buyer nonce). */
export function jobRequestDigest(r: JobRequest, chainId: number | bigint, dataMarket: string): Uint8Array {
  return typedDataDigest(
    jobRequestDomain(chainId, dataMarket),
    JOB_REQUEST_TYPES,
    r as unknown as Record<string, unknown>,
  )
}

export function jobIdOf(r: JobRequest, chainId: number | bigint, dataMarket: string): Hex {
  return bytesToHex(jobRequestDigest(r, chainId, dataMarket))
}

/** The address that signed a job request; RequestSignatureError if the signature is malformed. */
export function jobRequestSigner(r: JobRequest, signature: string, chainId: number | bigint, dataMarket: string): Hex {
  try {
    return recoverDigestSigner(jobRequestDigest(r, chainId, dataMarket), signature)
  } catch (cause) {
    throw new RequestSignatureError('job request signature is malformed', { cause })
  }
}

// ---- Jobs across assets of several owners (R67) ------------------------------------------------

/** One licensed asset of a multi-asset job and the table name the query uses for it. */
export interface JobPart {
  /** uint256 as a decimal string. */
  licenceId: string
  contentHash: Hex
  /** Lowercase SQL name; parts sharing a name are stacked (UNION ALL). */
  table: string
}

/** A buyer's signed request over two or more licensed assets, possibly of different owners. */
export interface MultiJobRequest {
  parts: JobPart[]
  queryHash: Hex
  resultPublicKey: Hex
  nonce: Hex
  deadline: number
}

export const MAX_JOB_PARTS = 8
/** Table names are plain identifiers that cannot collide with SQL keywords used in the subset. */
const TABLE = /^[a-z][a-z0-9_]{0,31}$/
const RESERVED = new Set(['select', 'from', 'where', 'join', 'on', 'group', 'order', 'by', 'limit', 'as', 'and', 'or'])

export const isMultiJobRequest = (r: unknown): r is MultiJobRequest =>
  typeof r === 'object' && r !== null && 'parts' in r

export function checkMultiJobRequest(r: unknown): MultiJobRequest {
  const x = r as MultiJobRequest
  if (typeof r !== 'object' || r === null) throw new InvalidInputError('request must be an object')
  if (!Array.isArray(x.parts) || x.parts.length < 2 || x.parts.length > MAX_JOB_PARTS)
    throw new InvalidInputError(`request.parts must list 2 to ${MAX_JOB_PARTS} licensed assets`)
  const licences = new Set<string>()
  const contents = new Set<string>()
  for (const [i, p] of x.parts.entries()) {
    if (typeof p !== 'object' || p === null) throw new InvalidInputError(`request.parts[${i}] must be an object`)
    if (!isLicenceId(p.licenceId))
      throw new InvalidInputError(`request.parts[${i}].licenceId must be a positive decimal string below 2^256`)
    if (!isHex(p.contentHash, 32))
      throw new InvalidInputError(`request.parts[${i}].contentHash must be 32 bytes of 0x hex`)
    if (typeof p.table !== 'string' || !TABLE.test(p.table) || RESERVED.has(p.table))
      throw new InvalidInputError(`request.parts[${i}].table must be a lowercase name (a-z, 0-9, _), not a keyword`)
    if (licences.has(p.licenceId)) throw new InvalidInputError(`licence ${p.licenceId} is named in two parts`)
    if (contents.has(p.contentHash.toLowerCase())) throw new InvalidInputError(`an asset is named in two parts`)
    licences.add(p.licenceId)
    contents.add(p.contentHash.toLowerCase())
  }
  for (const k of ['queryHash', 'resultPublicKey', 'nonce'] as const) {
    if (!isHex(x[k], 32)) throw new InvalidInputError(`request.${k} must be 32 bytes of 0x hex`)
  }
  if (!Number.isSafeInteger(x.deadline) || x.deadline <= 0)
    throw new InvalidInputError('request.deadline must be unix seconds')
  return x
}

/** The EIP-712 digest of a multi-asset job request; it is also the job id. */
export function multiJobRequestDigest(r: MultiJobRequest, chainId: number | bigint, dataMarket: string): Uint8Array {
  return typedDataDigest(
    jobRequestDomain(chainId, dataMarket),
    MULTI_JOB_REQUEST_TYPES,
    r as unknown as Record<string, unknown>,
  )
}

export function multiJobIdOf(r: MultiJobRequest, chainId: number | bigint, dataMarket: string): Hex {
  return bytesToHex(multiJobRequestDigest(r, chainId, dataMarket))
}

/** The address that signed a multi-asset job request; RequestSignatureError if malformed. */
export function multiJobRequestSigner(
  r: MultiJobRequest,
  signature: string,
  chainId: number | bigint,
  dataMarket: string,
): Hex {
  try {
    return recoverDigestSigner(multiJobRequestDigest(r, chainId, dataMarket), signature)
  } catch (cause) {
    throw new RequestSignatureError('job request signature is malformed', { cause })
  }
}
