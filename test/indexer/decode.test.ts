// The indexer's compiled log decoder gives exactly the canonical args ethers' parseLog gives, for every
// event of every Stillflow ABI, and defers to ethers on input it does not handle (dirty padding, short
// data, invalid UTF-8), so an odd log is decoded — or refused — the same way either path.
import fc from 'fast-check'
import { Interface, type EventFragment, type ParamType } from 'ethers'
import { describe, expect, it, vi } from 'vitest'
import * as abis from '../../contracts/index'
import { contractsByAddress, decodeLog, decodeLogWithEthers } from '../../worker/src/indexer/decode'

const CONTRACTS: Record<string, readonly unknown[]> = {
  DataAssetNFT: abis.dataAssetNftAbi,
  DataMarket: abis.dataMarketAbi,
  EnclaveRegistry: abis.enclaveRegistryAbi,
  ComputeLedger: abis.computeLedgerAbi,
  LedgerAnchor: abis.ledgerAnchorAbi,
  PsiComparator: abis.psiComparatorAbi,
}
const address = (i: number) => `0x${(i + 1).toString(16).padStart(40, '0')}`
const names = contractsByAddress(Object.fromEntries(Object.keys(CONTRACTS).map((n, i) => [n, address(i)])))

/** An arbitrary value of an ABI type, as ethers' encoder takes it. */
function valueOf(p: ParamType): fc.Arbitrary<unknown> {
  if (p.isArray()) return fc.array(valueOf(p.arrayChildren), { maxLength: 4 })
  const uint = /^uint(\d+)$/.exec(p.type)
  if (uint) return fc.bigInt({ min: 0n, max: (1n << BigInt(uint[1])) - 1n })
  if (p.type === 'address') return fc.uint8Array({ minLength: 20, maxLength: 20 }).map(hex)
  if (p.type === 'bytes32') return fc.uint8Array({ minLength: 32, maxLength: 32 }).map(hex)
  if (p.type === 'bool') return fc.boolean()
  if (p.type === 'string') return fc.string({ unit: 'grapheme', maxLength: 40 })
  throw new Error(`no generator for ${p.type}: add one`)
}
const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`

const events = Object.entries(CONTRACTS).flatMap(([contract, abi], i) => {
  const iface = new Interface(abi as never)
  const out: Array<{ contract: string; at: string; iface: Interface; fragment: EventFragment }> = []
  iface.forEachEvent((fragment) => out.push({ contract, at: address(i), iface, fragment }))
  return out
})

const log = (at: string, topics: string[], data: string) => ({
  address: at,
  topics,
  data,
  blockNumber: '0x7',
  blockHash: `0x${'ab'.repeat(32)}`,
  transactionHash: `0x${'cd'.repeat(32)}`,
  logIndex: '0x2',
})

/** Both decoders' answers, or the error each threw. */
function both(l: ReturnType<typeof log>) {
  const run = (f: typeof decodeLog) => {
    try {
      return f(31337, names, l, 99)
    } catch (err) {
      return { threw: String(err) }
    }
  }
  return { fast: run(decodeLog), ethers: run(decodeLogWithEthers) }
}

describe('decodeLog', () => {
  it.each(events.map((e) => [`${e.contract}.${e.fragment.name}`, e] as const))(
    'agrees with ethers on %s',
    (_, { at, iface, fragment }) => {
      fc.assert(
        fc.property(fc.tuple(...fragment.inputs.map(valueOf)), (values) => {
          const { topics, data } = iface.encodeEventLog(fragment, values)
          const parseLog = vi.spyOn(Interface.prototype, 'parseLog')
          const fast = decodeLog(31337, names, log(at, topics, data), 99)
          // The compiled path decoded it: ethers was not asked.
          expect(parseLog).not.toHaveBeenCalled()
          parseLog.mockRestore()
          expect(fast).toEqual(decodeLogWithEthers(31337, names, log(at, topics, data), 99))
          expect((fast as { name: string }).name).toBe(fragment.name)
        }),
        { numRuns: 40 },
      )
    },
  )

  it('defers to ethers on dirty padding, short data, bad offsets and invalid UTF-8', () => {
    const cases = events.flatMap(({ at, iface, fragment }) => {
      const values = fragment.inputs.map((p) => fc.sample(valueOf(p), { numRuns: 1, seed: 7 })[0])
      const { topics, data } = iface.encodeEventLog(fragment, values)
      const words = data.slice(2).match(/.{64}/g) ?? []
      const out = [log(at, topics, data.slice(0, -2)), log(at, topics.slice(0, -1), data)]
      words.forEach((_, k) => {
        const dirty = [...words]
        dirty[k] = `ff${dirty[k].slice(2)}`
        out.push(log(at, topics, `0x${dirty.join('')}`))
      })
      if (topics.length > 1) out.push(log(at, [topics[0], `0xff${topics[1].slice(4)}`, ...topics.slice(2)], data))
      return out
    })
    // A string whose bytes are not UTF-8.
    const amended = events.find((e) => e.fragment.inputs.some((p) => p.type === 'string'))!
    const values = amended.fragment.inputs.map((p) => (p.type === 'string' ? 'xx' : fc.sample(valueOf(p), 1)[0]))
    const { topics, data } = amended.iface.encodeEventLog(amended.fragment, values)
    cases.push(log(amended.at, topics, data.replace('7878', 'c328')))
    expect(cases.length).toBeGreaterThan(100)
    for (const c of cases) {
      const { fast, ethers } = both(c)
      expect(fast).toEqual(ethers)
    }
  })

  it('names a log of an unknown event or address Unknown with its raw topics and data', () => {
    const l = log(address(0), [`0x${'12'.repeat(32)}`], '0x')
    expect(decodeLog(31337, names, l, 1)).toMatchObject({ name: 'Unknown', contract: 'DataAssetNFT' })
    expect(decodeLog(31337, names, { ...l, address: address(50) }, 1)).toMatchObject({ contract: 'Unknown' })
  })
})
