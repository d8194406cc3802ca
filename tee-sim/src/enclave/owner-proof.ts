// The owner's proof at ingest (R9, R13): the policy the enclave will enforce is the one in the metadata
// the owner signed for minting (EIP-712 `Publish` over SHA-256 of the declaration), never one the
// untrusted operator passes alongside. Without it, whoever ingests first would set the policy.
import { createHash } from 'node:crypto'
import { publishDomain, publishTypes } from '../../../contracts/index'
import { bytesToHex, isHex, type Hex } from '../bytes'
import { recoverDigestSigner, sameAddress, typedDataDigest, type Eip712Domain } from '../eip712'
import { InvalidInputError, RequestSignatureError } from '../errors'

/** The owner's signed declaration (the bytes, as base64url) and the Publish signature over its digest. */
export interface OwnerProof {
  declaration: string
  signature: string
  deadline: number
}

export interface ProvenDeclaration {
  owner: Hex
  metadataDigest: Hex
  policy: unknown
}

function fromBase64url(s: string): Buffer {
  if (!/^[A-Za-z0-9_-]+$/.test(s)) throw new InvalidInputError('publish.declaration must be base64url')
  return Buffer.from(s, 'base64url')
}

/**
 * Verifies that the declaration names this content, chain and contract, and that its owner signed the
 * Publish message for it. EOA signatures only: a contract wallet's (ERC-1271) cannot be checked off chain.
 */
export function verifyOwnerProof(
  proof: OwnerProof,
  expected: { chainId: number; contract: string; contentHash: string },
): ProvenDeclaration {
  if (typeof proof !== 'object' || proof === null) throw new InvalidInputError('publish must be an object')
  if (!isHex(proof.signature, 65)) throw new InvalidInputError('publish.signature must be 65 bytes of 0x hex')
  if (!Number.isSafeInteger(proof.deadline) || proof.deadline <= 0)
    throw new InvalidInputError('publish.deadline must be a positive integer')
  const bytes = fromBase64url(String(proof.declaration))
  if (bytes.length === 0 || bytes.length > 64 * 1024)
    throw new InvalidInputError('publish.declaration is empty or too large')
  let doc: {
    stillflow?: { owner?: string; chainId?: number; dataAssetNft?: string; contentHash?: string; policy?: unknown }
  }
  try {
    doc = JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new InvalidInputError('publish.declaration is not JSON')
  }
  const sf = doc?.stillflow
  if (!sf || typeof sf.owner !== 'string') throw new InvalidInputError('publish.declaration has no stillflow.owner')
  if (sf.chainId !== expected.chainId || !sameAddress(String(sf.dataAssetNft), expected.contract))
    throw new InvalidInputError('publish.declaration names another chain or contract')
  if (String(sf.contentHash).toLowerCase() !== expected.contentHash.toLowerCase())
    throw new InvalidInputError('publish.declaration names another content hash')
  const metadataDigest = bytesToHex(createHash('sha256').update(bytes).digest())
  // publishDomain always sets name and version; ethers' type only allows them to be absent.
  const domain = publishDomain(expected.chainId, expected.contract) as Eip712Domain
  const digest = typedDataDigest(domain, publishTypes, {
    owner: sf.owner,
    contentHash: expected.contentHash,
    metadataDigest,
    deadline: proof.deadline,
  })
  let signer: Hex
  try {
    signer = recoverDigestSigner(digest, proof.signature)
  } catch {
    throw new RequestSignatureError('the Publish signature is malformed')
  }
  if (!sameAddress(signer, sf.owner))
    throw new RequestSignatureError(`the Publish signature is not by the owner ${sf.owner}`)
  return { owner: signer, metadataDigest, policy: sf.policy }
}
