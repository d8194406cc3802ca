// ChainReader over ethers v6 JSON-RPC, with ABIs taken only from contracts/ (its generated file).
import { Contract, JsonRpcProvider, Network, type AbstractProvider } from 'ethers'
import { computeLedgerAbi, dataAssetNftAbi, dataMarketAbi, enclaveRegistryAbi } from '../../../contracts/index'
import { AssetUnavailableError, ChainUnavailableError, LicenceInvalidError } from '../errors'
import type { ChainReader, LicenceInfo } from '../enclave/chain-reader'
import type { Hex } from '../bytes'
import type { AddressBook, ChainReaderFactory } from './chain'

/** A revert is a fact about the chain (no such licence/asset); anything else means the chain is unreachable. */
function wrap<T>(what: string, p: Promise<T>, onRevert?: (cause: unknown) => Error): Promise<T> {
  return p.catch((cause: unknown) => {
    if (onRevert && (cause as { code?: string }).code === 'CALL_EXCEPTION') throw onRevert(cause)
    throw new ChainUnavailableError(`chain read failed: ${what}`, { cause })
  })
}

/** JSON-RPC at `rpcUrl` with a static network (no detection loop while the chain is down). */
export const ethersChainReaderFactory: ChainReaderFactory = async (
  rpcUrl: string,
  book: AddressBook,
): Promise<ChainReader> =>
  ethersChainReader(
    new JsonRpcProvider(rpcUrl, Network.from(book.chainId), { staticNetwork: true, batchMaxCount: 1 }),
    book,
  )

/** A ChainReader over any ethers provider (JSON-RPC, or hardhat in process for tests). */
export function ethersChainReader(provider: AbstractProvider, book: AddressBook): ChainReader {
  const nft = new Contract(book.contracts.DataAssetNFT, dataAssetNftAbi, provider)
  const market = new Contract(book.contracts.DataMarket, dataMarketAbi, provider)
  const registry = new Contract(book.contracts.EnclaveRegistry, enclaveRegistryAbi, provider)
  const ledger = new Contract(book.contracts.ComputeLedger, computeLedgerAbi, provider)
  return {
    chainId: book.chainId,
    contracts: book.contracts,
    async ping() {
      const id = (await wrap('eth_chainId', provider.getNetwork())).chainId
      if (Number(id) !== book.chainId)
        throw new ChainUnavailableError(`RPC serves chain ${Number(id)}, not ${book.chainId}`)
    },
    async tokenIdOfContent(contentHash) {
      return BigInt(await wrap('tokenIdOfContent', nft.tokenIdOfContent(contentHash) as Promise<bigint>))
    },
    async assetInfo(tokenId) {
      const r = (await wrap(
        'assetInfo',
        nft.assetInfo(tokenId),
        (cause) => new AssetUnavailableError(`asset ${tokenId} does not exist`, { cause }),
      )) as { owner: string; contentHash: string; revoked: boolean; frozen: boolean } & unknown[]
      return {
        owner: (r.owner ?? r[0]) as Hex,
        contentHash: (r.contentHash ?? r[1]) as Hex,
        revoked: Boolean(r.revoked ?? r[2]),
        frozen: Boolean(r.frozen ?? r[3]),
      }
    },
    async licence(licenceId) {
      const r = (await wrap(
        'licence',
        market.licence(licenceId),
        (cause) => new LicenceInvalidError(`licence ${licenceId} does not exist`, { cause }),
      )) as Record<string, unknown>
      const n = (k: string): bigint => BigInt((r[k] as bigint | number | undefined) ?? 0)
      const l: LicenceInfo = {
        buyer: String(r.buyer) as Hex,
        tokenId: n('tokenId'),
        offerId: n('offerId'),
        expiresAt: n('expiresAt'),
        jobsLeft: n('jobsLeft'),
        epsilonLeftMilli: n('epsilonLeftMilli'),
        purposes: n('purposes'),
      }
      return l
    },
    async isMeasurementApproved(measurement) {
      return Boolean(
        await wrap('isMeasurementApproved', registry.isMeasurementApproved(measurement) as Promise<boolean>),
      )
    },
    async isJobRecorded(jobId) {
      return Boolean(await wrap('isJobRecorded', ledger.isJobRecorded(jobId) as Promise<boolean>))
    },
  }
}
