// The browser's receipt checker (site/src/lib/receipt-check.ts): it hashes a receipt exactly as the
// enclave (tee-sim, noble) and ComputeLedger do, recovers the enclave's signature, refuses every
// malformed field by name, and (against a chain faked here, answering per block) judges registration
// and approval as they stood when the job was recorded. The live chain runs in test/e2e/storefront.test.ts.
import { Interface, Wallet, zeroPadValue } from 'ethers'
import { describe, expect, it } from 'vitest'
import {
  computeLedgerAbi,
  enclaveRegistryAbi,
  groupReceiptTypes,
  jobReceiptDomain,
  jobReceiptTypes,
} from '../../contracts/index'
import {
  checkReceipt,
  checkShape,
  openReceipt,
  ReceiptInputError,
  receiptDigest,
  type AnySignedReceipt,
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

describe('checkReceipt', () => {
  const REGISTRY = '0x' + '7e'.repeat(20)
  const ZERO32 = '0x' + '00'.repeat(32)
  const RECORDED = 40
  const HEAD = 100
  const ledgerAbi = new Interface(computeLedgerAbi)
  const registryAbi = new Interface(enclaveRegistryAbi)

  /** What EnclaveRegistry answers at a block: the signer's measurement (zero: not registered), and approval. */
  type State = { registered: string; approved: boolean }
  const genuine: State = { registered: receipt.measurement, approved: true }

  interface Fake {
    /** The registry's state at a block number (`HEAD` for 'latest'). */
    at?: (block: number) => State
    /** The receipt ComputeLedger recorded for the job in block `RECORDED` (null: none). */
    recorded?: AnySignedReceipt | null
    /** EnclaveRegistry's logs: event name and block. */
    events?: Array<{ event: 'MeasurementRetired' | 'EnclaveDeregistered'; block: number }>
  }

  /** A chain that answers only what the check asks, per block tag; `asked` lists the registry reads' blocks. */
  function fakeChain(signedReceipt: AnySignedReceipt, fake: Fake = {}) {
    const at = fake.at ?? (() => genuine)
    const recorded = fake.recorded === undefined ? signedReceipt : fake.recorded
    const TX = '0x' + '7a'.repeat(32)
    const asked: Array<number | 'latest'> = []
    const provider = {
      send: async (method: string) => {
        if (method !== 'eth_chainId') throw new Error(`unexpected ${method}`)
        return '0x7a69'
      },
      getTransaction: async (hash: string) => {
        if (hash !== TX || !recorded) return null
        const data =
          'parts' in recorded.receipt
            ? ledgerAbi.encodeFunctionData('recordGroupReceipt', [recorded.receipt, recorded.signature])
            : ledgerAbi.encodeFunctionData('recordReceipt', [recorded.receipt, recorded.signature])
        return { to: LEDGER, data }
      },
      getLogs: async (filter: { address: string; topics: string[]; fromBlock: number }) => {
        if (filter.address.toLowerCase() === LEDGER)
          return recorded && filter.topics[1] === signedReceipt.receipt.jobId
            ? [{ transactionHash: TX, blockNumber: RECORDED }]
            : []
        expect(filter.address.toLowerCase()).toBe(REGISTRY)
        return (fake.events ?? [])
          .filter((e) => registryAbi.getEvent(e.event)!.topicHash === filter.topics[0] && e.block >= filter.fromBlock)
          .map((e) => ({ blockNumber: e.block }))
      },
      call: async (tx: { to: string; data: string; blockTag?: number | 'latest' }) => {
        if (tx.to.toLowerCase() === LEDGER) return ledgerAbi.encodeFunctionResult('registry', [REGISTRY])
        const call = registryAbi.parseTransaction({ data: tx.data })!
        const tag = tx.blockTag ?? 'latest'
        asked.push(tag)
        const s = at(tag === 'latest' ? HEAD : tag)
        if (call.name === 'isMeasurementApproved')
          return registryAbi.encodeFunctionResult(call.name, [s.approved && call.args[0] === receipt.measurement])
        if (call.name === 'enclaveStatus')
          return registryAbi.encodeFunctionResult(call.name, [
            call.args[0] === signedReceipt.signer ? s.registered : ZERO32,
            s.approved && s.registered !== ZERO32,
          ])
        throw new Error(`unexpected call ${call.name}`)
      },
    }
    const chain = {
      provider,
      book: { chainId: 31337, contracts: { ComputeLedger: LEDGER }, deployedAtBlock: 0 },
      api: async () => new Response('{}', { status: 404 }),
    } as unknown as ChainReader
    return { chain, asked }
  }
  const byKey = (v: { checks: Array<{ key: string; ok: boolean; detail: string }> }) =>
    Object.fromEntries(v.checks.map((c) => [c.key, c]))

  describe('when the enclave build was retired after the job was recorded', () => {
    it('verifies the receipt as of its block, and notes the retirement apart from the checks', async () => {
      const s = await signed()
      const { chain, asked } = fakeChain(s, {
        at: (b) => ({ ...genuine, approved: b < 60 }),
        events: [{ event: 'MeasurementRetired', block: 60 }],
      })
      const v = await checkReceipt(chain, s)
      expect(v.ok, v.summary).toBe(true)
      expect(v.checks.every((c) => c.ok)).toBe(true)
      expect(asked).toContain(RECORDED)
      expect(byKey(v).approved.detail).toBe(
        `Measurement 0x55555555…55555555 was approved in EnclaveRegistry when the job was recorded (block ${RECORDED}).`,
      )
      expect(byKey(v).registered.detail).toMatch(
        /^0x[0-9a-fA-F]{40} was registered in EnclaveRegistry with measurement/,
      )
      expect(v.summary).toBe(
        `This result was computed by an approved enclave: the receipt is signed by enclave ${s.signer}, which was registered with measurement 0x55555555…55555555, approved when ComputeLedger recorded this exact receipt for job 0x11111111…11111111 in block ${RECORDED}.`,
      )
      expect(v.notes).toEqual([
        'Since then, measurement 0x55555555…55555555 was retired (block 60): new jobs no longer run on that build, but it was approved when this job was recorded, so this receipt stands.',
      ])
    })

    it('also when the retirement came later in the block that recorded the job', async () => {
      const s = await signed()
      const { chain, asked } = fakeChain(s, {
        at: (b) => ({ ...genuine, approved: b < RECORDED }),
        events: [{ event: 'MeasurementRetired', block: RECORDED }],
      })
      const v = await checkReceipt(chain, s)
      expect(v.ok, v.summary).toBe(true)
      expect(asked).toContain(RECORDED - 1)
      expect(v.notes).toEqual([expect.stringMatching(/^Since then, measurement .* was retired \(block 40\)/)])
    })
  })

  it('verifies a receipt whose enclave key was deregistered after the job was recorded, with a note', async () => {
    const s = await signed()
    const { chain } = fakeChain(s, {
      at: (b) => (b < 70 ? genuine : { registered: ZERO32, approved: true }),
      events: [{ event: 'EnclaveDeregistered', block: 70 }],
    })
    const v = await checkReceipt(chain, s)
    expect(v.ok, v.summary).toBe(true)
    expect(v.notes).toEqual([
      `Since then, enclave ${s.signer} was deregistered (block 70): it can record no new receipts, but it was registered when this job was recorded, so this receipt stands.`,
    ])
  })

  it('has no note when nothing changed since', async () => {
    const s = await signed()
    const v = await checkReceipt(fakeChain(s).chain, s)
    expect(v).toMatchObject({ ok: true, notes: [], record: { blockNumber: RECORDED } })
  })

  it('fails a receipt whose signer was not registered when the job was recorded', async () => {
    const s = await signed()
    const { chain } = fakeChain(s, { at: () => ({ registered: ZERO32, approved: true }) })
    const v = await checkReceipt(chain, s)
    expect(v.ok).toBe(false)
    expect(byKey(v).registered).toMatchObject({
      ok: false,
      detail: `${s.signer} was not an enclave registered in EnclaveRegistry when the job was recorded (block ${RECORDED}).`,
    })
    expect(v.summary).toBe(`This receipt does not verify: ${byKey(v).registered.detail}`)
    expect(v.notes).toEqual([])
  })

  it('fails a receipt that was never recorded, judging its enclave by today’s registry', async () => {
    const s = await signed()
    const { chain, asked } = fakeChain(s, { recorded: null, at: () => ({ ...genuine, approved: false }) })
    const v = await checkReceipt(chain, s)
    expect(v.ok).toBe(false)
    expect(asked.every((t) => t === 'latest')).toBe(true)
    expect(byKey(v).approved.detail).toBe(
      `Measurement ${receipt.measurement} is not approved in EnclaveRegistry (never approved, or retired).`,
    )
    expect(byKey(v).recorded).toMatchObject({
      ok: false,
      detail: `ComputeLedger has no record of job ${receipt.jobId}.`,
    })
    expect(v.summary).toBe(`This receipt does not verify: ${byKey(v).approved.detail}`)
  })

  describe('when the receipt differs from the one ComputeLedger recorded', () => {
    it('names the changed field in the summary, not the signature it broke', async () => {
      const s = await signed()
      const tampered = { ...s, receipt: { ...receipt, resultHash: '0x' + 'ab'.repeat(32) } } as SignedReceipt
      const v = await checkReceipt(fakeChain(tampered, { recorded: s }).chain, tampered)
      expect(v.ok).toBe(false)
      expect(v.summary).toBe(
        'This receipt does not verify: The result hash does not match the one recorded on chain for job 0x11111111…11111111, so the receipt was changed after the enclave signed it.',
      )
      expect(byKey(v).signature.ok).toBe(false)
      expect(byKey(v).recorded.detail).toMatch(/with a different resultHash \(transaction/)
    })

    it('lists every changed field, and a group receipt’s part by number', async () => {
      const s = await signed()
      const two = {
        ...s,
        receipt: { ...receipt, resultHash: '0x' + 'ab'.repeat(32), epsilonSpentMilli: 1 },
      } as SignedReceipt
      let v = await checkReceipt(fakeChain(two, { recorded: s }).chain, two)
      expect(v.summary).toMatch(/: The result hash and the ε spent do not match the ones recorded on chain for job /)

      const key = new Wallet('0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcbc5c2d7d2f7a9d4f')
      const group = {
        jobId: receipt.jobId,
        queryHash: receipt.queryHash,
        resultHash: receipt.resultHash,
        measurement: receipt.measurement,
        parts: [
          { licenceId: '3', contentHash: `0x${'22'.repeat(32)}`, epsilonSpentMilli: 500 },
          { licenceId: '9', contentHash: `0x${'66'.repeat(32)}`, epsilonSpentMilli: 700 },
        ],
      } as SignedGroupReceipt['receipt']
      const types = groupReceiptTypes as unknown as Record<string, Array<{ name: string; type: string }>>
      const g = {
        receipt: group,
        signature: await key.signTypedData(jobReceiptDomain(31337, LEDGER), types, group),
        signer: key.address,
        chainId: 31337,
        computeLedger: LEDGER,
      } as SignedGroupReceipt
      const altered = {
        ...g,
        receipt: { ...group, parts: [group.parts[0], { ...group.parts[1], epsilonSpentMilli: 1 }] },
      }
      v = await checkReceipt(fakeChain(altered, { recorded: g }).chain, altered)
      expect(v.summary).toMatch(/: The ε spent of part 2 does not match the one recorded on chain for job /)
      expect(byKey(v).recorded.detail).toMatch(/with a different parts/)
    })

    it('says it is not the recorded receipt when the fields were signed again by another key', async () => {
      const s = await signed()
      const other = new Wallet('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d')
      const changed = { ...receipt, queryHash: '0x' + 'cd'.repeat(32) }
      const types = jobReceiptTypes as unknown as Record<string, Array<{ name: string; type: string }>>
      const resigned = {
        ...s,
        receipt: changed,
        signer: other.address,
        signature: await other.signTypedData(jobReceiptDomain(31337, LEDGER), types, changed),
      } as SignedReceipt
      const v = await checkReceipt(fakeChain(resigned, { recorded: s }).chain, resigned)
      expect(byKey(v).signature.ok).toBe(true)
      expect(v.summary).toMatch(
        /: The query hash does not match the one recorded on chain for job .*, so this is not the receipt ComputeLedger recorded\.$/,
      )
    })
  })
})
