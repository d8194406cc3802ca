// The buyer's signed job request (EIP-712) and the job id derived from it, shared by the site/CLI
// that sign it, the worker that forwards it, and the enclave that checks it itself (R58).
import { bytesToHex, isHex, type Hex } from './bytes'
import { JOB_REQUEST_TYPES, jobRequestDomain, recoverDigestSigner, typedDataDigest } from './eip712'
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

export function checkJobRequest(r: unknown): JobRequest {
  const x = r as JobRequest
  if (typeof r !== 'object' || r === null) throw new InvalidInputError('request must be an object')
  if (typeof x.licenceId !== 'string' || !/^[1-9][0-9]{0,77}$/.test(x.licenceId))
    throw new InvalidInputError('request.licenceId must be a positive decimal string')
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
