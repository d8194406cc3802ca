import fc from 'fast-check'
import { TypedDataEncoder, Wallet, verifyTypedData } from 'ethers'
import { describe, expect, it } from 'vitest'
import { bytesToHex } from '../../tee-sim/src/bytes'
import {
  ENCLAVE_QUOTE_TYPES,
  JOB_RECEIPT_TYPES,
  JOB_REQUEST_TYPES,
  VENDOR_QUOTE_DOMAIN,
  addressOfSecretKey,
  checksumAddress,
  jobRequestDomain,
  receiptDomain,
  recoverDigestSigner,
  signDigest,
  typedDataDigest,
} from '../../tee-sim/src/eip712'
import { InvalidInputError } from '../../tee-sim/src/errors'

const hex32 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => bytesToHex(b))
const address = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => checksumAddress(bytesToHex(b)))
const ethersTypes = (t: Record<string, readonly { name: string; type: string }[]>) =>
  Object.fromEntries(Object.entries(t).map(([k, v]) => [k, v.map((f) => ({ ...f }))]))

const SK = new Uint8Array(32).fill(0x11)
const wallet = new Wallet(bytesToHex(SK))

describe('EIP-712 digests match ethers', () => {
  it('EnclaveQuote under the vendor domain', () => {
    fc.assert(
      fc.property(
        hex32,
        address,
        hex32,
        hex32,
        fc.integer({ min: 0, max: 2 ** 40 }),
        (measurement, signer, clusterPublicKey, nonce, issuedAt) => {
          const q = { measurement, signer, clusterPublicKey, nonce, issuedAt }
          const ours = bytesToHex(typedDataDigest(VENDOR_QUOTE_DOMAIN, ENCLAVE_QUOTE_TYPES, q))
          expect(ours).toBe(TypedDataEncoder.hash(VENDOR_QUOTE_DOMAIN, ethersTypes(ENCLAVE_QUOTE_TYPES), q))
        },
      ),
      { numRuns: 50 },
    )
  })

  it('JobReceipt under the ComputeLedger domain', () => {
    fc.assert(
      fc.property(
        hex32,
        fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }),
        hex32,
        hex32,
        hex32,
        fc.integer({ min: 0, max: 1e9 }),
        hex32,
        fc.integer({ min: 1, max: 1e6 }),
        address,
        (jobId, licenceId, contentHash, queryHash, resultHash, eps, measurement, chainId, ledger) => {
          const r = {
            jobId,
            licenceId: licenceId.toString(),
            contentHash,
            queryHash,
            resultHash,
            epsilonSpentMilli: eps,
            measurement,
          }
          const d = receiptDomain(chainId, ledger)
          expect(bytesToHex(typedDataDigest(d, JOB_RECEIPT_TYPES, r))).toBe(
            TypedDataEncoder.hash(d, ethersTypes(JOB_RECEIPT_TYPES), r),
          )
        },
      ),
      { numRuns: 50 },
    )
  })

  it('JobRequest under the DataMarket domain', () => {
    const d = jobRequestDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3')
    const m = {
      licenceId: '7',
      contentHash: `0x${'01'.repeat(32)}`,
      queryHash: `0x${'02'.repeat(32)}`,
      resultPublicKey: `0x${'03'.repeat(32)}`,
      nonce: `0x${'04'.repeat(32)}`,
      deadline: 1_800_000_000,
    }
    expect(bytesToHex(typedDataDigest(d, JOB_REQUEST_TYPES, m))).toBe(
      TypedDataEncoder.hash(d, ethersTypes(JOB_REQUEST_TYPES), m),
    )
  })
})

describe('signatures', () => {
  const d = receiptDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3')
  const r = {
    jobId: `0x${'09'.repeat(32)}`,
    licenceId: '1',
    contentHash: `0x${'01'.repeat(32)}`,
    queryHash: `0x${'02'.repeat(32)}`,
    resultHash: `0x${'03'.repeat(32)}`,
    epsilonSpentMilli: 250,
    measurement: `0x${'aa'.repeat(32)}`,
  }

  it('equal ethers signTypedData byte for byte (RFC 6979 deterministic k) and recover to the same address', async () => {
    const ours = signDigest(typedDataDigest(d, JOB_RECEIPT_TYPES, r), SK)
    const theirs = await wallet.signTypedData(d, ethersTypes(JOB_RECEIPT_TYPES), r)
    expect(ours).toBe(theirs)
    expect(addressOfSecretKey(SK)).toBe(wallet.address)
    expect(verifyTypedData(d, ethersTypes(JOB_RECEIPT_TYPES), r, ours)).toBe(wallet.address)
    expect(recoverDigestSigner(typedDataDigest(d, JOB_RECEIPT_TYPES, r), theirs)).toBe(wallet.address)
  })

  it('rejects a malleated (high-s) signature and a bad v', () => {
    const digest = typedDataDigest(d, JOB_RECEIPT_TYPES, r)
    const sig = signDigest(digest, SK)
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const s = BigInt(`0x${sig.slice(66, 130)}`)
    const flipped = `${sig.slice(0, 66)}${(n - s).toString(16).padStart(64, '0')}${sig.endsWith('1b') ? '1c' : '1b'}`
    expect(() => recoverDigestSigner(digest, flipped)).toThrow(InvalidInputError)
    expect(() => recoverDigestSigner(digest, `${sig.slice(0, 130)}00`)).toThrow(InvalidInputError)
    expect(() => recoverDigestSigner(digest, sig.slice(0, 100))).toThrow(InvalidInputError)
  })

  it('refuses values that do not fit their EIP-712 type', () => {
    expect(() => typedDataDigest(d, JOB_RECEIPT_TYPES, { ...r, jobId: '0x01' })).toThrow(InvalidInputError)
    expect(() => typedDataDigest(d, JOB_RECEIPT_TYPES, { ...r, epsilonSpentMilli: 2 ** 64 })).toThrow(InvalidInputError)
    expect(() => typedDataDigest(d, JOB_RECEIPT_TYPES, { ...r, epsilonSpentMilli: -1 })).toThrow(InvalidInputError)
    expect(() => typedDataDigest(d, JOB_RECEIPT_TYPES, { ...r, licenceId: 'x' })).toThrow(InvalidInputError)
    expect(() => typedDataDigest(receiptDomain(1, '0x1234'), JOB_RECEIPT_TYPES, r)).toThrow(InvalidInputError)
  })
})
