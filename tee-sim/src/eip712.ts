// EIP-712 typed-data hashing and secp256k1 signatures for the shapes tee-sim shares with the
// contracts (EnclaveQuote, JobReceipt) and the buyer's JobRequest. Pure JS (noble), no node: imports.
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'
import {
  assertBytes,
  bytesToHex,
  concatBytes,
  equalBytes,
  hexToBytes,
  isHex,
  uintToBytes,
  utf8,
  type Hex,
} from './bytes'
import { InvalidInputError } from './errors'
// The shapes shared with the contracts have one definition, in contracts/ (what the chain verifies).
import {
  enclaveQuoteDomain,
  enclaveQuoteTypes,
  groupReceiptTypes,
  jobReceiptDomain,
  jobReceiptTypes,
} from '../../contracts/index'

export interface TypedField {
  readonly name: string
  readonly type: string
}
export type TypedFields = readonly TypedField[]

export interface Eip712Domain {
  name: string
  version: string
  chainId?: bigint | number
  verifyingContract?: string
}

/** Vendor quote domain (no chainId/verifyingContract: a quote is chain-independent). From contracts/. */
export const VENDOR_QUOTE_DOMAIN: Eip712Domain = { name: enclaveQuoteDomain.name, version: enclaveQuoteDomain.version }

/** EIP-712 types of the vendor quote (`EnclaveRegistry.registerEnclave`), from contracts/. */
export const ENCLAVE_QUOTE_TYPES = enclaveQuoteTypes

/** EIP-712 types of the job receipt that `ComputeLedger.recordReceipt` checks, from contracts/. */
export const JOB_RECEIPT_TYPES = jobReceiptTypes

/**
 * EIP-712 types of the buyer's signed job request, checked by the enclave itself (R58).
 * `resultPublicKey` is the buyer's X25519 HPKE public key the result is encrypted to.
 */
export const JOB_REQUEST_TYPES = {
  JobRequest: [
    { name: 'licenceId', type: 'uint256' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'queryHash', type: 'bytes32' },
    { name: 'resultPublicKey', type: 'bytes32' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'deadline', type: 'uint64' },
  ],
} as const

/** EIP-712 types of the receipt of a job across assets (`ComputeLedger.recordGroupReceipt`), from contracts/. */
export const GROUP_RECEIPT_TYPES = groupReceiptTypes

/**
 * EIP-712 types of a job across assets of several owners (R67): each part names a licence, its asset and
 * the table name the query uses for it. Parts that share a table name are stacked (UNION ALL).
 */
export const MULTI_JOB_REQUEST_TYPES = {
  MultiJobRequest: [
    { name: 'parts', type: 'JobPart[]' },
    { name: 'queryHash', type: 'bytes32' },
    { name: 'resultPublicKey', type: 'bytes32' },
    { name: 'nonce', type: 'bytes32' },
    { name: 'deadline', type: 'uint64' },
  ],
  JobPart: [
    { name: 'licenceId', type: 'uint256' },
    { name: 'contentHash', type: 'bytes32' },
    { name: 'table', type: 'string' },
  ],
} as const

/** Receipt domain: bound to the chain and the ComputeLedger that records receipts. */
export function receiptDomain(chainId: bigint | number, computeLedger: string): Eip712Domain {
  const d = jobReceiptDomain(chainId, computeLedger)
  return { name: String(d.name), version: String(d.version), chainId, verifyingContract: computeLedger }
}

/** Job-request domain: bound to the chain and the DataMarket that holds licences. */
export function jobRequestDomain(chainId: bigint | number, dataMarket: string): Eip712Domain {
  return { name: 'Stillflow JobRequest', version: '1', chainId, verifyingContract: dataMarket }
}

const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/

export function isAddress(value: unknown): value is string {
  return typeof value === 'string' && ADDRESS_RE.test(value)
}

/** EIP-55 mixed-case checksum address. */
export function checksumAddress(address: string): Hex {
  if (!isAddress(address)) throw new InvalidInputError('address must be 20 bytes of 0x hex')
  const lower = address.slice(2).toLowerCase()
  const h = keccak_256(utf8(lower))
  let out = '0x'
  for (let i = 0; i < 40; i++) {
    const nibble = (h[i >> 1] >> (i % 2 === 0 ? 4 : 0)) & 0xf
    out += nibble >= 8 ? lower[i].toUpperCase() : lower[i]
  }
  return out as Hex
}

type TypeSet = Record<string, TypedFields>

// EIP-712 §"Definition of encodeType": the primary type, then every struct it references (directly or
// not), sorted by name.
function encodeType(primary: string, types: TypeSet): string {
  const deps = new Set<string>()
  const visit = (name: string) => {
    for (const f of types[name]) {
      const base = f.type.replace(/\[\]$/, '')
      if (types[base] && base !== primary && !deps.has(base)) {
        deps.add(base)
        visit(base)
      }
    }
  }
  visit(primary)
  const one = (name: string) => `${name}(${types[name].map((f) => `${f.type} ${f.name}`).join(',')})`
  return [primary, ...[...deps].sort()].map(one).join('')
}

// EIP-712 §"Definition of encodeData": atomic values are 32-byte words; string/bytes are hashed; a struct
// is its hashStruct; a dynamic array T[] is keccak256 of its elements' encodings concatenated.
function encodeValue(type: string, value: unknown, name: string, types: TypeSet): Uint8Array {
  if (type.endsWith('[]')) {
    if (!Array.isArray(value)) throw new InvalidInputError(`${name} must be an array`)
    const inner = type.slice(0, -2)
    return keccak_256(concatBytes(...value.map((v, i) => encodeValue(inner, v, `${name}[${i}]`, types))))
  }
  if (types[type]) {
    if (typeof value !== 'object' || value === null) throw new InvalidInputError(`${name} must be an object`)
    return hashStructOf(type, types, value as Record<string, unknown>)
  }
  if (type === 'address') {
    if (!isAddress(value)) throw new InvalidInputError(`${name} must be an address`)
    return concatBytes(new Uint8Array(12), hexToBytes(value.toLowerCase(), 20, name))
  }
  if (type === 'bool') return uintToBytes(value ? 1 : 0, 32)
  if (type === 'string') {
    if (typeof value !== 'string') throw new InvalidInputError(`${name} must be a string`)
    return keccak_256(utf8(value))
  }
  if (type === 'bytes') {
    if (!isHex(value)) throw new InvalidInputError(`${name} must be hex`)
    return keccak_256(hexToBytes(value))
  }
  const fixed = /^bytes(\d+)$/.exec(type)
  if (fixed) {
    const n = Number(fixed[1])
    if (!isHex(value, n)) throw new InvalidInputError(`${name} must be ${n} bytes of 0x hex`)
    return concatBytes(hexToBytes(value, n, name), new Uint8Array(32 - n))
  }
  const uint = /^uint(\d+)$/.exec(type)
  if (uint) {
    const bits = Number(uint[1])
    let v: bigint
    try {
      v = BigInt(value as bigint | number | string)
    } catch (cause) {
      throw new InvalidInputError(`${name} must be an unsigned integer`, { cause })
    }
    if (v < 0n || v >= 1n << BigInt(bits)) throw new InvalidInputError(`${name} does not fit in uint${bits}`)
    return uintToBytes(v, 32)
  }
  throw new InvalidInputError(`unsupported EIP-712 type ${type}`)
}

function hashStructOf(primary: string, types: TypeSet, message: Record<string, unknown>): Uint8Array {
  const typeHash = keccak_256(utf8(encodeType(primary, types)))
  return keccak_256(
    concatBytes(typeHash, ...types[primary].map((f) => encodeValue(f.type, message[f.name], f.name, types))),
  )
}

/** hashStruct(s) = keccak256(typeHash ‖ encodeData(s)) for a struct of atomic fields (EIP-712). */
export function hashStruct(primary: string, fields: TypedFields, message: Record<string, unknown>): Uint8Array {
  return hashStructOf(primary, { [primary]: fields }, message)
}

/** EIP-712 domain separator for the fields present in `domain`. */
export function domainSeparator(domain: Eip712Domain): Uint8Array {
  const fields: TypedField[] = [
    { name: 'name', type: 'string' },
    { name: 'version', type: 'string' },
  ]
  if (domain.chainId !== undefined) fields.push({ name: 'chainId', type: 'uint256' })
  if (domain.verifyingContract !== undefined) fields.push({ name: 'verifyingContract', type: 'address' })
  return hashStruct('EIP712Domain', fields, domain as unknown as Record<string, unknown>)
}

/**
 * The 32-byte digest a wallet signs: keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(message)). The
 * primary type is the one no other type references (like ethers' TypedDataEncoder); structs it
 * references, and arrays of them, are encoded as EIP-712 says.
 */
export function typedDataDigest(
  domain: Eip712Domain,
  types: Record<string, TypedFields>,
  message: Record<string, unknown>,
): Uint8Array {
  const names = Object.keys(types)
  const referenced = new Set(names.flatMap((n) => types[n].map((f) => f.type.replace(/\[\]$/, ''))))
  const primaries = names.filter((n) => !referenced.has(n))
  if (primaries.length !== 1) throw new InvalidInputError('exactly one primary struct type expected')
  return keccak_256(
    concatBytes(new Uint8Array([0x19, 0x01]), domainSeparator(domain), hashStructOf(primaries[0], types, message)),
  )
}

/** Ethereum address of a secp256k1 public key (compressed or not). */
export function addressOfPublicKey(publicKey: Uint8Array): Hex {
  const uncompressed = secp256k1.Point.fromBytes(publicKey).toBytes(false)
  return checksumAddress(bytesToHex(keccak_256(uncompressed.subarray(1)).subarray(12)))
}

export function addressOfSecretKey(secretKey: Uint8Array): Hex {
  return addressOfPublicKey(secp256k1.getPublicKey(assertBytes(secretKey, 32, 'secret key')))
}

/** Signs a 32-byte digest; returns the 65-byte Ethereum signature r ‖ s ‖ v (v ∈ {27, 28}, low s). */
export function signDigest(digest: Uint8Array, secretKey: Uint8Array): Hex {
  assertBytes(digest, 32, 'digest')
  const rec = secp256k1.sign(digest, assertBytes(secretKey, 32, 'secret key'), { prehash: false, format: 'recovered' })
  return bytesToHex(concatBytes(rec.subarray(1, 65), new Uint8Array([27 + rec[0]])))
}

const HALF_N = secp256k1.Point.CURVE().n >> 1n

/**
 * Recovers the signer address of a 65-byte r ‖ s ‖ v signature over a digest. Rejects high-s and
 * v ∉ {27, 28} like OpenZeppelin's ECDSA.recover, so a malleated signature never verifies.
 */
export function recoverDigestSigner(digest: Uint8Array, signature: string): Hex {
  const sig = hexToBytes(signature, 65, 'signature')
  const v = sig[64]
  if (v !== 27 && v !== 28) throw new InvalidInputError('signature v must be 27 or 28')
  let s = 0n
  for (const b of sig.subarray(32, 64)) s = (s << 8n) | BigInt(b)
  if (s > HALF_N || s === 0n) throw new InvalidInputError('signature s is not in the lower half order')
  const rec = concatBytes(new Uint8Array([v - 27]), sig.subarray(0, 64))
  let pk: Uint8Array
  try {
    pk = secp256k1.recoverPublicKey(rec, digest, { prehash: false })
  } catch (cause) {
    throw new InvalidInputError('signature does not recover to a public key', { cause })
  }
  return addressOfPublicKey(pk)
}

export function sameAddress(a: string, b: string): boolean {
  return isAddress(a) && isAddress(b) && equalBytes(hexToBytes(a.toLowerCase()), hexToBytes(b.toLowerCase()))
}
