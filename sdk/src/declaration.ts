// The asset's metadata as its owner declares and signs it (R13, R70): an OpenSea-style document with a
// `stillflow` extension. Its SHA-256 is the `metadataDigest` of the EIP-712 Publish message; it is stored
// on IPFS as one raw block, so CIDv1(raw, sha2-256) of the digest finds it.
import { canonicalJson } from '../../tee-sim/src/index'
import type { PrivacyPolicy } from '../../tee-sim/src/policy'
import { InvalidPublicationError } from './errors'
import { displayTextProblem } from './display-text'
import { isTag, TAG_RULE } from './tags'

export const DECLARATION_VERSION = 'stillflow.asset/v1'
/** The document must fit in one request header and one IPFS raw block. */
export const MAX_DECLARATION_BYTES = 8 * 1024

/** Why the owner may lawfully offer this data (R70): recorded, never interpreted by the marketplace. */
export interface LawfulBasis {
  /** e.g. 'owned', 'consent', 'contract', 'public-data', 'legitimate-interest' */
  basis: string
  statement: string
  /** Does the dataset contain personal data? */
  personalData: boolean
}

export interface Declaration {
  name: string
  description: string
  /** An image URL or ipfs:// URI for storefronts and wallets; optional. */
  image?: string
  attributes: Array<{ trait_type: string; value: string | number }>
  stillflow: {
    version: typeof DECLARATION_VERSION
    owner: string
    chainId: number
    dataAssetNft: string
    contentHash: string
    ciphertextCid: string
    ciphertextSize: number
    plaintextSize: number
    format: 'csv' | 'jsonl'
    tags: string[]
    policy: PrivacyPolicy
    lawfulBasis: LawfulBasis
  }
}

export interface DeclarationInput {
  name: string
  description?: string
  image?: string
  tags?: string[]
  policy?: PrivacyPolicy
  lawfulBasis: LawfulBasis
}

/** Checks what a person typed; throws InvalidPublicationError naming the field. */
export function checkDeclarationInput(input: DeclarationInput): void {
  const bad = (field: string, why: string) => {
    throw new InvalidPublicationError(`${field} ${why}`)
  }
  if (typeof input.name !== 'string' || input.name.trim().length === 0) bad('name', 'is required')
  const nameProblem = displayTextProblem(input.name, { max: 120, multiline: false })
  if (nameProblem) bad('name', nameProblem)
  const descriptionProblem = displayTextProblem(input.description ?? '', { max: 4000, multiline: true })
  if (descriptionProblem) bad('description', descriptionProblem)
  if (input.image !== undefined && !/^(https:\/\/|ipfs:\/\/)\S+$/.test(input.image))
    bad('image', 'must be an https:// or ipfs:// URI')
  const tags = input.tags ?? []
  if (tags.length > 12) bad('tags', 'has more than 12 entries')
  for (const t of tags) if (!isTag(t)) bad('tags', `entry "${t}" ${TAG_RULE}`)
  const lb = input.lawfulBasis
  if (!lb || typeof lb.basis !== 'string' || !lb.basis.trim()) bad('lawfulBasis.basis', 'is required')
  if (typeof lb.statement !== 'string' || !lb.statement.trim()) bad('lawfulBasis.statement', 'is required')
  if (lb.statement.length > 1000) bad('lawfulBasis.statement', 'is longer than 1000 characters')
  if (typeof lb.personalData !== 'boolean') bad('lawfulBasis.personalData', 'must be true or false')
}

/** The exact bytes the owner signs (canonical JSON, UTF-8). */
export function encodeDeclaration(d: Declaration): Uint8Array {
  const bytes = new TextEncoder().encode(canonicalJson(d))
  if (bytes.length > MAX_DECLARATION_BYTES) {
    throw new InvalidPublicationError(
      `the metadata is ${bytes.length} bytes; at most ${MAX_DECLARATION_BYTES} are allowed`,
    )
  }
  return bytes
}

export function decodeDeclaration(bytes: Uint8Array): Declaration {
  let d: Declaration
  try {
    d = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Declaration
  } catch {
    throw new InvalidPublicationError('the metadata is not UTF-8 JSON')
  }
  if (d?.stillflow?.version !== DECLARATION_VERSION)
    throw new InvalidPublicationError(`the metadata is not a ${DECLARATION_VERSION} document`)
  return d
}
