// Ingest: the owner's encrypted upload is opened inside the enclave once, checked (content hash,
// format), its schema inferred and DP summary statistics released in a signed ingest receipt. The
// wrapped key, schema and policy are sealed for later jobs. Re-ingest returns the same receipt.
import type { ByteSource } from '../byte-source'
import { isHex, type Hex } from '../bytes'
import { canonicalHash } from '../canonical-json'
import { checksumAddress, isAddress, sameAddress, signDigest } from '../eip712'
import { AssetUnavailableError, InvalidInputError, OwnerProofRequiredError, PolicyViolationError } from '../errors'
import { ingestReceiptDigest, type IngestReceipt, type SignedIngestReceipt } from '../ingest-receipt'
import { normalizePolicy } from '../policy'
import { wipeDataset, type DatasetFormat, type DatasetLimits } from './dataset'
import { RandomSource } from './dp/random'
import type { Enclave } from './enclave'
import { assertBuildApproved } from './approval'
import { verifyOwnerProof, type OwnerProof } from './owner-proof'
import { openAsset } from './plaintext'
import { summarize } from './statistics'

export interface IngestParams {
  chainId: number
  /** The DataAssetNFT address the data key is bound to. */
  contract: string
  contentHash: string
  wrappedKey: string
  format: DatasetFormat
  policy?: unknown
  /**
   * The owner's signed declaration, required: its policy is the one enforced (owner-proof.ts). Enforced
   * here, in the measured code, not by the host: a host flag is the operator's to leave off.
   */
  publish?: OwnerProof
}

export function checkIngestParams(p: unknown): IngestParams {
  const x = p as IngestParams
  if (typeof p !== 'object' || p === null) throw new InvalidInputError('ingest parameters must be an object')
  if (!Number.isSafeInteger(x.chainId) || x.chainId <= 0)
    throw new InvalidInputError('chainId must be a positive integer')
  if (!isAddress(x.contract)) throw new InvalidInputError('contract must be the DataAssetNFT address')
  if (!isHex(x.contentHash, 32)) throw new InvalidInputError('contentHash must be 32 bytes of 0x hex')
  if (!isHex(x.wrappedKey, 80)) throw new InvalidInputError('wrappedKey must be 80 bytes of 0x hex (HPKE enc ‖ ct)')
  if (x.format !== 'csv' && x.format !== 'jsonl') throw new InvalidInputError("format must be 'csv' or 'jsonl'")
  return x
}

/** Checks on chain that an asset with this content hash, if minted, is neither revoked nor frozen. */
export async function assertNotRevoked(enclave: Enclave, contentHash: Hex): Promise<bigint> {
  const chain = await enclave.chain()
  const tokenId = await chain.tokenIdOfContent(contentHash)
  if (tokenId === 0n) return 0n
  const info = await chain.assetInfo(tokenId)
  if (info.revoked) throw new AssetUnavailableError(`asset ${tokenId} is revoked`)
  if (info.frozen) throw new AssetUnavailableError(`asset ${tokenId} is frozen by a supervisor`)
  return tokenId
}

export async function ingest(
  enclave: Enclave,
  params: IngestParams,
  ciphertext: ByteSource,
  limits?: Partial<DatasetLimits>,
): Promise<SignedIngestReceipt> {
  const p = checkIngestParams(params)
  const contentHash = p.contentHash.toLowerCase() as Hex
  const cached = enclave.state.assets[contentHash]
  if (cached) return cached.ingest

  const chain = await enclave.chain()
  if (p.chainId !== chain.chainId || !sameAddress(p.contract, chain.contracts.DataAssetNFT)) {
    throw new InvalidInputError('the data key is bound to another chain or contract than this enclave serves', {
      details: `enclave serves chain ${chain.chainId}, DataAssetNFT ${chain.contracts.DataAssetNFT}`,
    })
  }
  await assertBuildApproved(enclave, chain)
  await assertNotRevoked(enclave, contentHash)
  if (p.publish === undefined)
    throw new OwnerProofRequiredError(
      'send the owner’s signed declaration as `publish`: the enclave enforces only a policy its owner signed',
    )
  const proven = verifyOwnerProof(p.publish, { chainId: p.chainId, contract: p.contract, contentHash })
  if (p.policy !== undefined && canonicalHash(p.policy) !== canonicalHash(proven.policy ?? { mode: 'dp' })) {
    throw new PolicyViolationError('the policy sent differs from the one the owner signed')
  }
  const policy = normalizePolicy(proven.policy ?? { mode: 'dp' })

  const sk = enclave.clusterSecretKey()
  const binding = { chainId: p.chainId, contract: p.contract, contentHash }
  let data
  try {
    data = await openAsset({
      binding,
      wrappedKey: p.wrappedKey,
      clusterSecretKey: sk,
      format: p.format,
      ciphertext,
      limits,
    })
  } finally {
    sk.fill(0)
  }
  const rng = new RandomSource(enclave.runtime)
  try {
    for (const name of Object.keys(policy.columns)) {
      if (!data.schema.some((c) => c.name === name))
        throw new PolicyViolationError(`policy names column "${name}", which the dataset does not have`)
    }
    const statistics = summarize(data, rng)
    const defaultBounds: Record<string, [number, number]> = {}
    for (const c of statistics.columns) if (c.range) defaultBounds[c.name] = c.range
    const receipt: IngestReceipt = {
      contentHash,
      schemaHash: canonicalHash(data.schema),
      statisticsHash: canonicalHash(statistics),
      policyHash: canonicalHash(policy),
      noisyRowCount: statistics.noisyRowCount,
      measurement: enclave.identity.measurement,
    }
    const signerKey = enclave.signerSecretKey()
    let signature: Hex
    try {
      signature = signDigest(ingestReceiptDigest(receipt, p.chainId, p.contract), signerKey)
    } finally {
      signerKey.fill(0)
    }
    const signed: SignedIngestReceipt = {
      receipt,
      signature,
      signer: enclave.identity.signer,
      chainId: p.chainId,
      dataAssetNft: checksumAddress(p.contract),
      format: p.format,
      schema: data.schema,
      statistics,
      policy,
    }
    enclave.state.assets[contentHash] = {
      chainId: p.chainId,
      contract: checksumAddress(p.contract),
      wrappedKey: p.wrappedKey.toLowerCase() as Hex,
      format: p.format,
      schema: data.schema,
      policy,
      defaultBounds,
      ingest: signed,
    }
    await enclave.persist()
    return signed
  } finally {
    rng.wipe()
    wipeDataset(data)
  }
}
