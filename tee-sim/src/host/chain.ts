// The host's connection to the chain: reads the address book (lazily, so the chain and the deployment
// may come up after the enclave), answers health probes, and builds the ChainReader the enclave uses.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { isAddress } from '../eip712'
import { ChainUnavailableError, EnclaveError } from '../errors'
import type { AddressBook as ContractsAddressBook } from '../../../contracts/index'
import type { ChainReader } from '../enclave/chain-reader'

/** The address book file: `{ chainId, contracts: { DataAssetNFT, DataMarket, EnclaveRegistry, ComputeLedger }, deployedAtBlock }`. */
export type AddressBook = ContractsAddressBook

export type ChainStatus = { ok: true; chainId: number } | { ok: false; reason: string }

/** Parses an address book; throws EnclaveError naming the file and field. */
export function parseAddressBook(json: unknown, where = 'address book'): AddressBook {
  const b = json as AddressBook
  if (typeof b !== 'object' || b === null) throw new EnclaveError(`${where} is not a JSON object`)
  if (!Number.isSafeInteger(b.chainId) || b.chainId <= 0)
    throw new EnclaveError(`${where}: chainId must be a positive integer`)
  for (const k of ['DataAssetNFT', 'DataMarket', 'EnclaveRegistry', 'ComputeLedger'] as const) {
    if (!isAddress(b.contracts?.[k])) throw new EnclaveError(`${where}: contracts.${k} must be an address`)
  }
  return { chainId: b.chainId, contracts: b.contracts, deployedAtBlock: Number(b.deployedAtBlock ?? 0) }
}

/** Builds a ChainReader for an RPC URL and address book (ethers + ABIs from contracts/). */
export type ChainReaderFactory = (rpcUrl: string, book: AddressBook) => Promise<ChainReader>

async function rpcChainId(rpcUrl: string, timeoutMs: number): Promise<number> {
  const res = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
    signal: AbortSignal.timeout(timeoutMs),
  })
  if (!res.ok) throw new Error(`RPC answered HTTP ${res.status}`)
  const body = (await res.json()) as { result?: string; error?: { message?: string } }
  if (typeof body.result !== 'string') throw new Error(`RPC error: ${body.error?.message ?? 'no result'}`)
  return Number(BigInt(body.result))
}

export class HostChain {
  private book?: AddressBook
  private bookMtime = -1
  private cached?: { key: string; reader: Promise<ChainReader> }

  constructor(
    readonly rpcUrl: string | undefined,
    readonly addressBookPath: string | undefined,
    private readonly factory?: ChainReaderFactory,
    private readonly timeoutMs = 2000,
  ) {}

  /** The address book, re-read when the file changes; undefined while it does not exist. */
  addressBook(): AddressBook | undefined {
    if (!this.addressBookPath || !existsSync(this.addressBookPath)) return undefined
    const mtime = statSync(this.addressBookPath).mtimeMs
    if (mtime !== this.bookMtime) {
      this.book = parseAddressBook(JSON.parse(readFileSync(this.addressBookPath, 'utf8')), this.addressBookPath)
      this.bookMtime = mtime
    }
    return this.book
  }

  async status(): Promise<ChainStatus> {
    if (!this.rpcUrl) return { ok: false, reason: 'no --rpc-url configured' }
    let book: AddressBook | undefined
    try {
      book = this.addressBook()
    } catch (err) {
      return { ok: false, reason: err instanceof EnclaveError ? err.shortMessage : 'address book unreadable' }
    }
    if (!book)
      return {
        ok: false,
        reason: this.addressBookPath
          ? `address book ${this.addressBookPath} not found yet`
          : 'no --address-book configured',
      }
    let chainId: number
    try {
      chainId = await rpcChainId(this.rpcUrl, this.timeoutMs)
    } catch (err) {
      return {
        ok: false,
        reason: `RPC ${this.rpcUrl} unreachable: ${err instanceof Error ? err.message : String(err)}`,
      }
    }
    if (chainId !== book.chainId)
      return { ok: false, reason: `RPC serves chain ${chainId}, address book is for ${book.chainId}` }
    return { ok: true, chainId }
  }

  /** The reader the enclave checks chain facts with; throws ChainUnavailableError when it cannot exist yet. */
  async reader(): Promise<ChainReader> {
    if (!this.rpcUrl) throw new ChainUnavailableError('enclave host has no --rpc-url')
    let book: AddressBook | undefined
    try {
      book = this.addressBook()
    } catch (cause) {
      throw new ChainUnavailableError('address book is unreadable', { cause })
    }
    if (!book) throw new ChainUnavailableError('address book not found yet')
    if (!this.factory) throw new ChainUnavailableError('no chain reader available (contracts ABIs missing)')
    const key = `${this.rpcUrl}|${this.bookMtime}`
    if (this.cached?.key !== key) {
      const pending = this.factory(this.rpcUrl, book)
      this.cached = { key, reader: pending }
      pending.catch(() => {
        if (this.cached?.reader === pending) this.cached = undefined
      })
    }
    return this.cached.reader
  }
}
