// Owns turning raw JSON-RPC logs into ledger events: which contract emitted a log (by the address book)
// and what it says (by that contract's ABI from contracts/index.ts, the only source of ABIs).
import { Interface, type EventFragment, type ParamType } from 'ethers'
import * as abis from '../../../contracts/index'
import { canonicalArgs, type Canonical, type LedgerEvent } from './ledger'

/** A log as `eth_getLogs` returns it. */
export interface RpcLog {
  address: string
  topics: string[]
  data: string
  blockNumber: string
  blockHash: string
  blockTimestamp?: string
  transactionHash: string
  logIndex: string
  removed?: boolean
}

/** ABIs by address-book name. A contract not listed here is still indexed, through the union of all ABIs. */
const byName: Record<string, readonly unknown[]> = {
  DataAssetNFT: abis.dataAssetNftAbi,
  DataMarket: abis.dataMarketAbi,
  EnclaveRegistry: abis.enclaveRegistryAbi,
  ComputeLedger: abis.computeLedgerAbi,
  LedgerAnchor: abis.ledgerAnchorAbi,
  PsiComparator: abis.psiComparatorAbi,
}

const interfaces = new Map<string, Interface>()
function interfaceOf(name: string): Interface {
  let iface = interfaces.get(name)
  if (!iface) {
    if (byName[name]) iface = new Interface(byName[name] as never)
    else {
      // Unknown contract: every event any Stillflow ABI declares, first declaration of a signature wins.
      const seen = new Set<string>()
      const frags: string[] = []
      for (const abi of Object.values(byName)) {
        for (const f of new Interface(abi as never).fragments) {
          if (f.type === 'event' && !seen.has(f.format('sighash'))) {
            seen.add(f.format('sighash'))
            frags.push(f.format('full'))
          }
        }
      }
      iface = new Interface(frags)
    }
    interfaces.set(name, iface)
  }
  return iface
}

/** The Interface of the contract the address book calls `name` (for encoding calls as well as decoding). */
export const contractInterface = interfaceOf

/** Address (lowercase) → address-book name. */
export function contractsByAddress(contracts: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(contracts).map(([name, address]) => [address.toLowerCase(), name]))
}

/**
 * One event of an ABI, compiled once for the indexer's hot path. ethers' `parseLog` recomputes every
 * fragment's topic hash per call and builds coders and Result proxies per value (≈ 0.5 ms a log here);
 * this reads the ABI words straight into canonical JSON values, and `null` sends anything it does not
 * handle exactly as ethers would (other types, dirty padding, short data) to ethers instead.
 */
interface CompiledEvent {
  name: string
  fragment: EventFragment
  indexed: Array<{ name: string; read: WordReader } | null>
  data: Array<{ name: string; type: string }>
}
type WordReader = (word: string) => Canonical | null

const ZERO_PAD = /^0+$/

/** Canonical value of one 32-byte ABI word (64 hex digits, no 0x) of a static type, or null to defer. */
function wordReader(type: string): WordReader | null {
  const uint = /^uint(\d+)$/.exec(type)
  if (uint) {
    const bits = Number(uint[1])
    // ethers masks a uintN to N bits; dirty high bits are left for it to handle.
    return (w) => (bits < 256 && !ZERO_PAD.test(w.slice(0, 64 - bits / 4)) ? null : BigInt(`0x${w}`).toString(10))
  }
  if (type === 'address') return (w) => (ZERO_PAD.test(w.slice(0, 24)) ? `0x${w.slice(24)}` : null)
  if (type === 'bool')
    return (w) => (ZERO_PAD.test(w.slice(0, 63)) && (w[63] === '0' || w[63] === '1') ? w[63] === '1' : null)
  if (type === 'bytes32') return (w) => `0x${w}`
  return null
}

/** An argument's key in the canonical args: its name, or its position when unnamed (as canonicalArgs). */
const keyOf = (p: ParamType, i: number) => p.name || String(i)

const compiled = new Map<string, Map<string, CompiledEvent>>()
function compiledEvents(contract: string): Map<string, CompiledEvent> {
  let events = compiled.get(contract)
  if (!events) {
    events = new Map()
    const iface = interfaceOf(contract)
    iface.forEachEvent((f) => {
      if (f.anonymous) return
      events!.set(f.topicHash, {
        name: f.name,
        fragment: f,
        // An indexed dynamic value is stored as its topic hash, as ethers' Indexed.hash.
        indexed: f.inputs
          .map((p, i) => ({ p, key: keyOf(p, i) }))
          .filter(({ p }) => p.indexed)
          .map(({ p, key }) => {
            const dynamic = p.isArray() || p.isTuple() || p.type === 'string' || p.type === 'bytes'
            const read = dynamic ? (w: string) => `0x${w}` : wordReader(p.type)
            return read ? { name: key, read } : null
          }),
        data: f.inputs.flatMap((p, i) => (p.indexed ? [] : [{ name: keyOf(p, i), type: p.type }])),
      })
    })
    compiled.set(contract, events)
  }
  return events
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The non-indexed arguments from the log's data (hex without 0x), or null to defer to ethers. */
function readData(fields: CompiledEvent['data'], hex: string): Record<string, Canonical> | null {
  const out: Record<string, Canonical> = {}
  const word = (at: number) => (at * 64 + 64 <= hex.length ? hex.slice(at * 64, at * 64 + 64) : null)
  const offsetWord = (w: string | null) => {
    if (w === null || !ZERO_PAD.test(w.slice(0, 48))) return null
    const n = Number.parseInt(w.slice(48), 16)
    return n % 32 === 0 ? n / 32 : null
  }
  for (let i = 0; i < fields.length; i++) {
    const { name, type } = fields[i]
    const head = word(i)
    if (head === null) return null
    const read = wordReader(type)
    if (read) {
      const v = read(head)
      if (v === null) return null
      out[name] = v
    } else if (type === 'string') {
      const at = offsetWord(head)
      const length = at === null ? null : word(at)
      if (at === null || length === null || !ZERO_PAD.test(length.slice(0, 48))) return null
      const bytes = Number.parseInt(length.slice(48), 16)
      if (hex.length < (at + 1) * 64 + bytes * 2) return null
      const raw = hex.slice((at + 1) * 64, (at + 1) * 64 + bytes * 2)
      try {
        out[name] = utf8.decode(Uint8Array.from(raw.match(/../g) ?? [], (b) => Number.parseInt(b, 16)))
      } catch {
        return null
      }
    } else if (type === 'bytes32[]') {
      const at = offsetWord(head)
      const n = at === null ? null : word(at)
      if (at === null || n === null || !ZERO_PAD.test(n.slice(0, 48))) return null
      const items: Canonical[] = []
      for (let k = 0, len = Number.parseInt(n.slice(48), 16); k < len; k++) {
        const w = word(at + 1 + k)
        if (w === null) return null
        items.push(`0x${w}`)
      }
      out[name] = items
    } else return null
  }
  return out
}

/** Canonical args of a log by the compiled ABI, or null when only ethers can say. */
function fastArgs(contract: string, log: RpcLog): { name: string; args: Record<string, Canonical> } | null {
  const ev = compiledEvents(contract).get(log.topics[0]?.toLowerCase() ?? '')
  if (!ev || log.topics.length !== ev.indexed.length + 1) return null
  const data = log.data.toLowerCase()
  if (!data.startsWith('0x') || !/^[0-9a-f]*$/.test(data.slice(2))) return null
  const fromData = readData(ev.data, data.slice(2))
  if (!fromData) return null
  const fromTopics: Record<string, Canonical> = {}
  for (let i = 0; i < ev.indexed.length; i++) {
    const topic = log.topics[i + 1].toLowerCase()
    const v = /^0x[0-9a-f]{64}$/.test(topic) ? ev.indexed[i]?.read(topic.slice(2)) : null
    if (v === null || v === undefined) return null
    fromTopics[ev.indexed[i]!.name] = v
  }
  // In ABI order, as canonicalArgs writes them.
  const args: Record<string, Canonical> = {}
  ev.fragment.inputs.forEach((p, i) => {
    const key = keyOf(p, i)
    args[key] = p.indexed ? fromTopics[key] : fromData[key]
  })
  return { name: ev.name, args }
}

/** A log decoded to a ledger event (detail still null: the indexer adds transaction evidence). */
export function decodeLog(chainId: number, names: Map<string, string>, log: RpcLog, blockTime: number): LedgerEvent {
  const contract = names.get(log.address.toLowerCase()) ?? 'Unknown'
  const fast = fastArgs(contract, log)
  if (!fast) return decodeLogWithEthers(chainId, names, log, blockTime)
  return { ...eventHead(chainId, contract, log, blockTime), name: fast.name, args: JSON.stringify(fast.args) }
}

/**
 * The same decoding through ethers' `parseLog` alone: the fallback of `decodeLog`, and what the
 * independent checker (`npm run audit`) uses, so the two decoders check each other.
 */
export function decodeLogWithEthers(
  chainId: number,
  names: Map<string, string>,
  log: RpcLog,
  blockTime: number,
): LedgerEvent {
  const contract = names.get(log.address.toLowerCase()) ?? 'Unknown'
  let name = 'Unknown'
  let args = JSON.stringify({ topics: log.topics.map((t) => t.toLowerCase()), data: log.data.toLowerCase() })
  const parsed = interfaceOf(contract).parseLog({ topics: log.topics, data: log.data })
  if (parsed) {
    name = parsed.name
    args = JSON.stringify(canonicalArgs(parsed.fragment as EventFragment, parsed.args))
  }
  return { ...eventHead(chainId, contract, log, blockTime), name, args }
}

function eventHead(chainId: number, contract: string, log: RpcLog, blockTime: number) {
  return {
    chainId,
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash.toLowerCase(),
    blockTime,
    txHash: log.transactionHash.toLowerCase(),
    logIndex: Number(log.logIndex),
    address: log.address.toLowerCase(),
    contract,
    detail: null,
  }
}
