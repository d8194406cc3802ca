// The browser's receipt checker (site/src/lib/receipt-check.ts) without a chain: it hashes a receipt
// exactly as the enclave (tee-sim, noble) and ComputeLedger do, recovers the enclave's signature, and
// refuses every malformed field by name. The chain-facing checks run in test/e2e/storefront.test.ts.
import { Wallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import { groupReceiptTypes, jobReceiptDomain, jobReceiptTypes } from '../../contracts/index'
import {
  checkShape,
  openReceipt,
  ReceiptInputError,
  receiptDigest,
  type ChainReader,
} from '../../site/src/lib/receipt-check'
import {
  bytesToHex,
  groupReceiptDigest,
  receiptDigest as enclaveDigest,
  type SignedGroupReceipt,
  type SignedReceipt,
} from '../../tee-sim/src/index'

const LEDGER = '0x' + '5f'.repeat(20)
const receipt = {
  jobId: `0x${'11'.repeat(32)}`,
  licenceId: '7',
  contentHash: `0x${'22'.repeat(32)}`,
  queryHash: `0x${'33'.repeat(32)}`,
  resultHash: `0x${'44'.repeat(32)}`,
  epsilonSpentMilli: 1000,
  measurement: `0x${'55'.repeat(32)}`,
} as SignedReceipt['receipt']

async function signed(): Promise<SignedReceipt> {
  // A fixed development key (hardhat account 0): deterministic, never used outside tests.
  const key = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcbc5c2d7d2f7a9d4f')
  const types = jobReceiptTypes as unknown as Record<string, Array<{ name: string; type: string }>>
  const signature = await key.signTypedData(jobReceiptDomain(31337, LEDGER), types, receipt)
  return { receipt, signature, signer: key.address, chainId: 31337, computeLedger: LEDGER } as SignedReceipt
}

describe('receiptDigest', () => {
  it('equals the enclave’s EIP-712 digest of the same receipt', async () => {
    const s = await signed()
    expect(receiptDigest(s)).toBe(bytesToHex(enclaveDigest(receipt, 31337, LEDGER)))
    // Any field change moves the digest (what makes a tampered receipt fail the signature check).
    expect(receiptDigest({ ...s, receipt: { ...receipt, epsilonSpentMilli: 999 } })).not.toBe(receiptDigest(s))
    expect(receiptDigest({ ...s, chainId: 1 })).not.toBe(receiptDigest(s))
  })
})

describe('checkShape', () => {
  it('accepts a receipt as the API and the CLI give it', async () => {
    const s = await signed()
    expect(checkShape(JSON.parse(JSON.stringify(s)))).toEqual(s)
  })

  it.each([
    [(_: any) => null, /must be a JSON object/],
    [
      (s: any) => ({ ...s, receipt: 'x' }),
      /^"receipt" is not an object: it must be a JSON object in braces, not "x"\.$/,
    ],
    [
      (s: any) => ({ ...s, receipt: { ...s.receipt, jobId: '0x12' } }),
      /^"receipt\.jobId" is not a hash: it must be 0x followed by 64 hex digits, not "0x12"\.$/,
    ],
    [
      (s: any) => ({ ...s, receipt: { ...s.receipt, resultHash: 42 } }),
      /"receipt\.resultHash" is not a hash: .* not 42\./,
    ],
    [
      (s: any) => ({ ...s, receipt: { ...s.receipt, licenceId: 7 } }),
      /"receipt\.licenceId" is not a licence id: it must be a decimal number in a string, like "7", not 7\./,
    ],
    [(s: any) => ({ ...s, receipt: { ...s.receipt, licenceId: '-1' } }), /"receipt\.licenceId" is not a licence id/],
    [
      (s: any) => ({ ...s, receipt: { ...s.receipt, epsilonSpentMilli: -1 } }),
      /"receipt\.epsilonSpentMilli" is not an amount of ε: it must be a non-negative integer/,
    ],
    [(s: any) => ({ ...s, receipt: { ...s.receipt, epsilonSpentMilli: 1.5 } }), /not 1\.5\./],
    [(s: any) => ({ ...s, signature: '0x1234' }), /"signature" is not a signature: it must be 65 bytes/],
    [
      (s: any) => ({ ...s, signer: 'alice' }),
      /^"signer" is not an address: it must be 0x followed by 40 hex digits, not "alice"\.$/,
    ],
    [(s: any) => ({ ...s, signer: null }), /"signer" is not an address: .* not null\./],
    [(s: any) => ({ ...s, chainId: 0 }), /"chainId" is not a chain id: it must be a positive integer, not 0\./],
    [(s: any) => ({ ...s, chainId: '31337' }), /"chainId" is not a chain id: .* not "31337"\./],
    [(s: any) => ({ ...s, computeLedger: '0x12' }), /"computeLedger" is not an address/],
    // A long value is cut short: enough to spot the mistake.
    [(s: any) => ({ ...s, signer: 'x'.repeat(500) }), /not "x{23}…"\.$/],
  ])('refuses malformed input %#, naming the field and what it holds', async (mutate, message) => {
    const input = mutate(JSON.parse(JSON.stringify(await signed())))
    expect(() => checkShape(input)).toThrow(ReceiptInputError)
    expect(() => checkShape(input)).toThrow(message)
  })

  // Every field the check reads, at the top level and in the receipt.
  const TOP = ['receipt', 'signature', 'signer', 'chainId', 'computeLedger']
  const FIELDS = ['jobId', 'licenceId', 'contentHash', 'queryHash', 'resultHash', 'epsilonSpentMilli', 'measurement']

  it.each([...TOP.map((k) => [k, k]), ...FIELDS.map((k) => [`receipt.${k}`, k])])(
    'says plainly that "%s" is missing, apart from it being malformed',
    async (path, key) => {
      const s = JSON.parse(JSON.stringify(await signed()))
      delete (path.startsWith('receipt.') ? s.receipt : s)[key]
      expect(() => checkShape(s)).toThrow(
        `The receipt has no "${path}" field — paste the whole receipt JSON as the marketplace gave it.`,
      )
      const bad = JSON.parse(JSON.stringify(await signed()))
      ;(path.startsWith('receipt.') ? bad.receipt : bad)[key] = key === 'receipt' ? [] : 'x'
      expect(() => checkShape(bad)).toThrow(new RegExp(`^"${path.replace('.', '\\.')}" is not `))
    },
  )
})

describe('group receipts (a job across assets, R67)', () => {
  const group = {
    jobId: `0x${'11'.repeat(32)}`,
    queryHash: `0x${'33'.repeat(32)}`,
    resultHash: `0x${'44'.repeat(32)}`,
    measurement: `0x${'55'.repeat(32)}`,
    parts: [
      { licenceId: '3', contentHash: `0x${'22'.repeat(32)}`, epsilonSpentMilli: 500 },
      { licenceId: '9', contentHash: `0x${'66'.repeat(32)}`, epsilonSpentMilli: 700 },
    ],
  } as SignedGroupReceipt['receipt']
  async function signedGroup(): Promise<SignedGroupReceipt> {
    const key = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcbc5c2d7d2f7a9d4f')
    const types = groupReceiptTypes as unknown as Record<string, Array<{ name: string; type: string }>>
    const signature = await key.signTypedData(jobReceiptDomain(31337, LEDGER), types, group)
    return {
      receipt: group,
      signature,
      signer: key.address,
      chainId: 31337,
      computeLedger: LEDGER,
    } as SignedGroupReceipt
  }

  it('hashes as the enclave does, and any part changed moves the digest', async () => {
    const s = await signedGroup()
    expect(receiptDigest(s)).toBe(bytesToHex(groupReceiptDigest(group, 31337, LEDGER)))
    const tampered = { ...group, parts: [group.parts[0], { ...group.parts[1], epsilonSpentMilli: 1 }] }
    expect(receiptDigest({ ...s, receipt: tampered })).not.toBe(receiptDigest(s))
  })

  it('accepts one as the API gives it and names a bad part', async () => {
    const s = await signedGroup()
    expect(checkShape(JSON.parse(JSON.stringify(s)))).toEqual(s)
    const bad = (parts: unknown[]) => () => checkShape({ ...s, receipt: { ...group, parts } })
    expect(bad([group.parts[0]])).toThrow(/"receipt\.parts" must list two or more parts/)
    expect(bad([group.parts[0], { ...group.parts[1], contentHash: '0x12' }])).toThrow(
      /"receipt\.parts\[1\]\.contentHash" is not a hash: it must be 0x followed by 64 hex digits/,
    )
    const { contentHash: _, ...withoutHash } = group.parts[1]
    expect(bad([group.parts[0], withoutHash])).toThrow(/The receipt has no "receipt\.parts\[1\]\.contentHash" field/)
    expect(bad([group.parts[0], null])).toThrow(/"receipt\.parts\[1\]" is not an object: .* not null\./)
  })
})

describe('openReceipt', () => {
  it('reads a 64-digit id pasted without its 0x as the same id', async () => {
    const asked: string[] = []
    // A chain that holds nothing: the lookups it is asked for show which id was used.
    const chain = {
      provider: {
        getTransaction: async (hash: string) => (asked.push(`tx ${hash}`), null),
        getLogs: async (filter: { topics: unknown[] }) => (asked.push(`log ${String(filter.topics[1])}`), []),
      },
      book: { chainId: 31337, contracts: { ComputeLedger: LEDGER }, deployedAtBlock: 0 },
      api: async () => new Response('{}', { status: 404 }),
    } as unknown as ChainReader
    const id = 'ab'.repeat(32)
    await expect(openReceipt(chain, `  ${id}\n`)).rejects.toThrow(`no receipt, job or transaction with id 0x${id}`)
    expect(asked).toEqual([`tx 0x${id}`, `log 0x${id}`])
    await expect(openReceipt(chain, id.slice(2))).rejects.toThrow(/0x followed by 64 hex digits/)
  })
})
