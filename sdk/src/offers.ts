// Offers and licences from the wallet's side (DESIGN §3 "Buy a licence"; R6, R9, R10, R66): the API
// builds unsigned transactions and shows the cost; the owner's or buyer's own wallet signs and sends them.
import { Contract, Interface, type Provider, type Signer, type TransactionReceipt } from 'ethers'
import { dataMarketAbi } from '../../contracts/index'
import type { ApiClient } from './api'
import { StillflowError } from './errors'

const market = new Interface(dataMarketAbi)

/** `GET /api/offers?tokenId=`: one offer as the chain holds it. */
export interface Offer {
  tokenId: string
  offerId: string
  owner: string
  /** Smallest unit (wei for the native currency), decimal. */
  price: string
  currency: string
  durationSeconds: number
  maxJobs: number
  epsilonBudgetMilli: number
  purposes: number
  /** On sale now: not withdrawn, set by the asset's current owner, the asset neither revoked nor frozen. */
  active: boolean
  /** Why it does not sell (only when `active` is false). */
  inactive?: OfferLapse
}

/** Why an offer does not sell, as the API names it (worker/src/routes/offers.ts `offerLapse`). */
export type OfferLapse = 'withdrawn' | 'previous_owner' | 'set_before_transfer' | 'asset_revoked' | 'asset_frozen'

const LAPSE_WORDS: Record<OfferLapse, string> = {
  withdrawn: 'withdrawn by its owner',
  previous_owner: 'set by a previous owner of the asset',
  set_before_transfer: 'set before the asset last changed hands',
  asset_revoked: 'the asset is revoked',
  asset_frozen: 'the asset is frozen by a supervisor',
}

/** Why `offer` does not sell, in words for a person ('' when it is on sale). */
export function describeLapse(offer: Pick<Offer, 'active' | 'inactive'>): string {
  if (offer.active) return ''
  return offer.inactive ? LAPSE_WORDS[offer.inactive] : 'not on sale'
}

/** An unsigned transaction for the caller's wallet. */
export interface UnsignedTx {
  chainId: number
  to: string
  data: string
  /** Wei, decimal. */
  value: string
}

/** `POST /api/licences/build`: the purchase transaction and what it costs, shown before signing. */
export interface PurchaseQuote extends UnsignedTx {
  tokenId: string
  offerId: string
  price: string
  currency: string
  fee: string
  ownerReceives: string
  owner: string
  durationSeconds: number
  maxJobs: number
  epsilonBudgetMilli: number
}

export interface NewOfferTerms {
  price: bigint
  currency?: string
  durationSeconds: number
  maxJobs: number
  epsilonBudgetMilli: number
  purposes?: number
}

export async function listOffers(api: ApiClient, tokenId: string | bigint, opts: { activeOnly?: boolean } = {}) {
  const q = `tokenId=${tokenId}${opts.activeOnly ? '&active=true' : ''}`
  return (await api.request<{ tokenId: string; offers: Offer[] }>(`/offers?${q}`)).offers
}

export function buildSetOffer(api: ApiClient, tokenId: string | bigint, terms: NewOfferTerms) {
  return api.request<UnsignedTx>('/offers/build', {
    method: 'POST',
    json: {
      action: 'set',
      tokenId: tokenId.toString(),
      terms: {
        price: terms.price.toString(),
        ...(terms.currency ? { currency: terms.currency } : {}),
        durationSeconds: terms.durationSeconds,
        maxJobs: terms.maxJobs,
        epsilonBudgetMilli: terms.epsilonBudgetMilli,
        ...(terms.purposes !== undefined ? { purposes: terms.purposes } : {}),
      },
    },
  })
}

export function buildWithdrawOffer(api: ApiClient, tokenId: string | bigint, offerId: string | bigint) {
  return api.request<UnsignedTx>('/offers/build', {
    method: 'POST',
    json: { action: 'withdraw', tokenId: tokenId.toString(), offerId: offerId.toString() },
  })
}

export function quotePurchase(api: ApiClient, tokenId: string | bigint, offerId: string | bigint) {
  return api.request<PurchaseQuote>('/licences/build', {
    method: 'POST',
    json: { tokenId: tokenId.toString(), offerId: offerId.toString() },
  })
}

/** A transaction the contract refused, with its custom error decoded when the ABI names it. */
export class TransactionRefusedError extends StillflowError {
  override name = 'TransactionRefusedError'
  constructor(
    readonly errorName: string | undefined,
    message: string,
    cause?: unknown,
  ) {
    super(message, { cause, details: errorName })
  }
}

/** Sends a built transaction from the wallet and waits for it to be mined. */
export async function sendBuilt(signer: Signer, tx: UnsignedTx): Promise<TransactionReceipt> {
  const network = await signer.provider?.getNetwork()
  if (network && Number(network.chainId) !== tx.chainId)
    throw new StillflowError(`the wallet is on chain ${network.chainId}, the marketplace on ${tx.chainId}`)
  try {
    const sent = await signer.sendTransaction({ to: tx.to, data: tx.data, value: BigInt(tx.value) })
    const receipt = await sent.wait()
    if (!receipt) throw new StillflowError(`transaction ${sent.hash} was dropped`)
    return receipt
  } catch (err) {
    const data = (err as { data?: string }).data ?? (err as { info?: { error?: { data?: string } } }).info?.error?.data
    const parsed = typeof data === 'string' && data.length >= 10 ? market.parseError(data) : null
    if (parsed) throw new TransactionRefusedError(parsed.name, `${parsed.name}(${parsed.args.join(', ')})`, err)
    throw err
  }
}

/** What a mined transaction did in the market: the offer it set or the licence it bought. */
export function marketEvents(receipt: TransactionReceipt): {
  offerId?: string
  licenceId?: string
  expiresAt?: number
} {
  const out: { offerId?: string; licenceId?: string; expiresAt?: number } = {}
  for (const log of receipt.logs) {
    const e = (() => {
      try {
        return market.parseLog(log)
      } catch {
        return null
      }
    })()
    if (e?.name === 'OfferSet') out.offerId = e.args.offerId.toString()
    if (e?.name === 'LicencePurchased') {
      out.licenceId = e.args.licenceId.toString()
      out.expiresAt = Number(e.args.expiresAt)
    }
  }
  return out
}

export interface LicenceState {
  licenceId: string
  tokenId: string
  offerId: string
  buyer: string
  jobsLeft: number
  epsilonLeftMilli: number
  expiresAt: number
  live: boolean
}

/**
 * The buyer's licences for an asset, read from the chain (LicencePurchased logs, then their current
 * state), newest first — so a buyer needs no indexer to find what it owns.
 *
 * `seenAtBlock` is the block of a purchase the caller has just made: the log query then ends at a block
 * number at least that high instead of at "latest". A provider that answers "latest" from a cache (ethers
 * shares an identical in-flight request for 250 ms) or from a node a block behind would otherwise hide
 * the licence just bought — a read-after-write miss seen in the browser under load.
 */
export async function findLicences(
  provider: Provider,
  dataMarket: string,
  buyer: string,
  tokenId: string | bigint,
  fromBlock = 0,
  seenAtBlock?: number,
): Promise<LicenceState[]> {
  const contract = new Contract(dataMarket, dataMarketAbi, provider)
  const toBlock = seenAtBlock === undefined ? 'latest' : Math.max(seenAtBlock, await provider.getBlockNumber())
  const logs = await provider.getLogs({
    address: dataMarket,
    fromBlock,
    toBlock,
    topics: market.encodeFilterTopics('LicencePurchased', [null, BigInt(tokenId), buyer]),
  })
  const ids = logs.map((l) => market.parseLog(l)!.args.licenceId as bigint).reverse()
  return Promise.all(
    ids.map(async (id) => {
      const [l, live] = await Promise.all([contract.licence(id), contract.isLicenceLive(id)])
      return {
        licenceId: id.toString(),
        tokenId: l.tokenId.toString(),
        offerId: l.offerId.toString(),
        buyer: l.buyer,
        jobsLeft: Number(l.jobsLeft),
        epsilonLeftMilli: Number(l.epsilonLeftMilli),
        expiresAt: Number(l.expiresAt),
        live: Boolean(live),
      }
    }),
  )
}
