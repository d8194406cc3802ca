// Data-key wrapping to the enclave cluster key with HPKE, bound to (chainId, asset contract,
// content hash) through the HPKE `info` so a wrapped key cannot be replayed for another asset.
import { assertBytes, bytesToHex, concatBytes, hexToBytes, isHex, uintToBytes, utf8, type Hex } from './bytes'
import { isAddress } from './eip712'
import { InvalidInputError } from './errors'
import { hpkeOpen, hpkeSeal } from './hpke'

/** What a wrapped data key is bound to (R42: an asset's global key is chain + contract). */
export interface DataKeyBinding {
  chainId: number | bigint
  /** The DataAssetNFT contract address. */
  contract: string
  /** SHA-256 of the plaintext dataset. */
  contentHash: string
}

export const DATA_KEY_INFO_LABEL = 'stillflow/data-key/v1'
export const DATA_KEY_LENGTH = 32
/** enc (32) ‖ AES-256-GCM(data key) (32 + 16). */
export const WRAPPED_DATA_KEY_LENGTH = 80

/** HPKE info = label ‖ uint256(chainId) ‖ contract (20) ‖ contentHash (32) (RFC 9180 §5.1 `info`). */
export function dataKeyInfo(binding: DataKeyBinding): Uint8Array {
  if (typeof binding !== 'object' || binding === null)
    throw new InvalidInputError('binding must be { chainId, contract, contentHash }')
  if (!isAddress(binding.contract)) throw new InvalidInputError('binding.contract must be an address')
  if (!isHex(binding.contentHash, 32)) throw new InvalidInputError('binding.contentHash must be 32 bytes of hex')
  return concatBytes(
    utf8(DATA_KEY_INFO_LABEL),
    uintToBytes(BigInt(binding.chainId), 32),
    hexToBytes(binding.contract.toLowerCase(), 20),
    hexToBytes(binding.contentHash, 32),
  )
}

/** Wraps a 32-byte data key to the cluster's X25519 key. Returns 0x hex of enc ‖ ct (80 bytes). */
export async function wrapDataKey(
  dataKey: Uint8Array,
  clusterPublicKey: string | Uint8Array,
  binding: DataKeyBinding,
  opts: { ikmE?: Uint8Array } = {},
): Promise<Hex> {
  assertBytes(dataKey, DATA_KEY_LENGTH, 'data key')
  return bytesToHex(await hpkeSeal(clusterPublicKey, dataKeyInfo(binding), dataKey, opts))
}

/** Unwraps a data key; throws KeyUnwrapError if the key, binding or ciphertext differ. */
export async function unwrapDataKey(
  wrapped: string,
  clusterSecretKey: Uint8Array,
  binding: DataKeyBinding,
): Promise<Uint8Array> {
  const bytes = hexToBytes(wrapped, WRAPPED_DATA_KEY_LENGTH, 'wrapped data key')
  const key = await hpkeOpen(clusterSecretKey, dataKeyInfo(binding), bytes)
  return assertBytes(key, DATA_KEY_LENGTH, 'unwrapped data key')
}

export const RESULT_INFO_LABEL = 'stillflow/job-result/v1'

/** HPKE info for a job result: label ‖ jobId, so a result cannot be passed off as another job's. */
export function resultInfo(jobId: string): Uint8Array {
  return concatBytes(utf8(RESULT_INFO_LABEL), hexToBytes(jobId, 32, 'jobId'))
}

/** Encrypts a result to the buyer's X25519 key. Returns enc ‖ ct bytes. */
export async function sealResult(
  result: Uint8Array,
  buyerPublicKey: string | Uint8Array,
  jobId: string,
  opts: { ikmE?: Uint8Array } = {},
): Promise<Uint8Array> {
  return hpkeSeal(buyerPublicKey, resultInfo(jobId), result, opts)
}

/** The buyer's side: decrypts a result sealed by `sealResult`. */
export async function openResult(
  sealed: Uint8Array | string,
  buyerSecretKey: Uint8Array,
  jobId: string,
): Promise<Uint8Array> {
  const bytes =
    typeof sealed === 'string'
      ? hexToBytes(sealed, undefined, 'sealed result')
      : assertBytes(sealed, undefined, 'sealed result')
  return hpkeOpen(buyerSecretKey, resultInfo(jobId), bytes)
}
