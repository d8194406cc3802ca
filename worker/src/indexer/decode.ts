// Owns turning raw JSON-RPC logs into ledger events: which contract emitted a log (by the address book)
// and what it says (by that contract's ABI from contracts/index.ts, the only source of ABIs).
import { Interface, type EventFragment } from 'ethers'
import * as abis from '../../../contracts/index'
import { canonicalArgs, type LedgerEvent } from './ledger'

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

/** A log decoded to a ledger event (detail still null: the indexer adds transaction evidence). */
export function decodeLog(chainId: number, names: Map<string, string>, log: RpcLog, blockTime: number): LedgerEvent {
  const address = log.address.toLowerCase()
  const contract = names.get(address) ?? 'Unknown'
  let name = 'Unknown'
  let args = JSON.stringify({ topics: log.topics.map((t) => t.toLowerCase()), data: log.data.toLowerCase() })
  const parsed = interfaceOf(contract).parseLog({ topics: log.topics, data: log.data })
  if (parsed) {
    name = parsed.name
    args = JSON.stringify(canonicalArgs(parsed.fragment as EventFragment, parsed.args))
  }
  return {
    chainId,
    blockNumber: Number(log.blockNumber),
    blockHash: log.blockHash.toLowerCase(),
    blockTime,
    txHash: log.transactionHash.toLowerCase(),
    logIndex: Number(log.logIndex),
    address,
    contract,
    name,
    args,
    detail: null,
  }
}
