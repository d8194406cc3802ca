// Offers and licences from the wallet's side (DESIGN §3 "Buy a licence"; R6, R9, R10, R66): the API
// builds unsigned transactions and shows the cost; the owner's or buyer's own wallet signs and sends them.
import { Contract, formatUnits, Interface, isError, type Provider, type Signer, type TransactionReceipt } from 'ethers'
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
  /**
   * On sale now: not withdrawn, set by the asset's current owner, the asset neither revoked nor frozen, and
   * (for an ERC-20 price) the token still accepted by the market.
   */
  active: boolean
  /** Why it does not sell (only when `active` is false). */
  inactive?: OfferLapse
}

/** Why an offer does not sell, as the API names it (worker/src/routes/offer-rules.ts `offerLapse`). */
export type OfferLapse =
  'withdrawn' | 'previous_owner' | 'set_before_transfer' | 'asset_revoked' | 'asset_frozen' | 'currency_not_allowed'

const LAPSE_WORDS: Record<OfferLapse, string> = {
  withdrawn: 'withdrawn by its owner',
  previous_owner: 'set by a previous owner of the asset',
  set_before_transfer: 'set before the asset last changed hands',
  asset_revoked: 'the asset is revoked',
  asset_frozen: 'the asset is frozen by a supervisor',
  currency_not_allowed: 'priced in a token the marketplace no longer accepts',
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
  /**
   * Only for an offer priced in an ERC-20: the market pulls the price with `transferFrom`, so the buyer's
   * wallet must first call `token.approve(spender, amount)` (or have approved at least `amount`), else the
   * purchase reverts. The API does not know the buyer, so it cannot say whether that is done already.
   */
  approval?: {
    token: string
    /** The DataMarket. */
    spender: string
    /** The price, in the token's smallest unit, decimal. */
    amount: string
  }
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

/**
 * Who will send a built offer transaction: named, the API refuses (403 `not_asset_manager`) a wallet that
 * neither owns the asset nor is its delegate, before anything is signed.
 */
export interface OfferSender {
  from?: string
}

export function buildSetOffer(
  api: ApiClient,
  tokenId: string | bigint,
  terms: NewOfferTerms,
  sender: OfferSender = {},
) {
  return api.request<UnsignedTx>('/offers/build', {
    method: 'POST',
    json: {
      action: 'set',
      tokenId: tokenId.toString(),
      ...sender,
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

export function buildWithdrawOffer(
  api: ApiClient,
  tokenId: string | bigint,
  offerId: string | bigint,
  sender: OfferSender = {},
) {
  return api.request<UnsignedTx>('/offers/build', {
    method: 'POST',
    json: { action: 'withdraw', tokenId: tokenId.toString(), offerId: offerId.toString(), ...sender },
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

/** Refuses a wallet on another chain than the marketplace's, before it signs anything there. */
async function requireChain(signer: Signer, chainId: number): Promise<void> {
  const network = await signer.provider?.getNetwork()
  if (network && Number(network.chainId) !== chainId)
    throw new StillflowError(`the wallet is on chain ${network.chainId}, the marketplace on ${chainId}`)
}

/** Sends a built transaction from the wallet and waits for it to be mined. */
export async function sendBuilt(signer: Signer, tx: UnsignedTx): Promise<TransactionReceipt> {
  await requireChain(signer, tx.chainId)
  try {
    const sent = await signer.sendTransaction({ to: tx.to, data: tx.data, value: BigInt(tx.value) })
    const receipt = await sent.wait()
    if (!receipt) throw new StillflowError(`transaction ${sent.hash} was dropped`)
    return receipt
  } catch (err) {
    const data = (err as { data?: string }).data ?? (err as { info?: { error?: { data?: string } } }).info?.error?.data
    const parsed = typeof data === 'string' && data.length >= 10 ? market.parseError(data) : null
    if (parsed) throw new TransactionRefusedError(parsed.name, `${parsed.name}(${parsed.args.join(', ')})`, err)
    if (lacksFunds(err)) throw new InsufficientFundsError(await signer.getAddress(), BigInt(tx.value) > 0n, err)
    throw err
  }
}

/**
 * Whether a node refused a transaction because its sender cannot pay: ethers names it INSUFFICIENT_FUNDS
 * for geth's wording, but other nodes word it their own way (hardhat: "Sender doesn't have enough funds"),
 * which ethers passes on as "could not coalesce error".
 */
function lacksFunds(err: unknown): boolean {
  if (isError(err, 'INSUFFICIENT_FUNDS')) return true
  const e = err as { message?: string; info?: unknown; error?: unknown }
  let text = e?.message ?? ''
  try {
    text += JSON.stringify([e?.info, e?.error])
  } catch {
    // a circular error: the message alone
  }
  return /insufficient funds|enough funds|exceeds balance/i.test(text)
}

/** The wallet cannot pay for a transaction's gas (and value): nothing was sent. */
export class InsufficientFundsError extends StillflowError {
  override name = 'InsufficientFundsError'
  constructor(
    readonly account: string,
    withValue: boolean,
    cause?: unknown,
  ) {
    super(
      `the wallet ${account} holds too little of the chain's currency (ETH) to pay for this transaction's gas` +
        `${withValue ? ' and its price' : ''}; fund it and try again`,
      { cause },
    )
  }
}

// The few ERC-20 functions a purchase needs. Inline rather than in contracts/generated.ts: the token is any
// contract the admin allowed, not one this repository builds, so only the standard interface is assumed.
const erc20Abi = [
  'function allowance(address owner, address spender) view returns (uint256)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function balanceOf(address owner) view returns (uint256)',
  'function decimals() view returns (uint8)',
  'function symbol() view returns (string)',
] as const

/** How to show amounts of a token: its symbol and its decimals. */
export interface TokenInfo {
  address: string
  symbol: string
  decimals: number
}

/**
 * The token's symbol and decimals, read from the chain. Both are optional in ERC-20: without `symbol()` the
 * address stands in, and without `decimals()` amounts are shown in the smallest unit (0 decimals) — a
 * guessed 18 could show a price a million times too small.
 */
export async function tokenInfo(provider: Provider, token: string): Promise<TokenInfo> {
  const c = new Contract(token, erc20Abi, provider)
  // Only a function the contract lacks (a revert, or an answer that is no uint8/string) means "absent"; a
  // network failure is not a missing symbol and is passed on.
  const absent =
    <T>(fallback: T) =>
    (err: unknown): T => {
      if (isError(err, 'CALL_EXCEPTION') || isError(err, 'BAD_DATA')) return fallback
      throw err
    }
  const [symbol, decimals] = await Promise.all([
    c.symbol().then(
      // No spaces or control characters: a symbol is printed in terminals and sentences.
      (s: string) => (/^[^\p{C}\s]{1,16}$/u.test(s) ? s : token),
      absent(token),
    ),
    // Past 36 decimals no real token goes; such a value is as good as none.
    c.decimals().then((d: bigint) => (d <= 36n ? Number(d) : 0), absent(0)),
  ])
  return { address: token, symbol, decimals }
}

/**
 * An amount of `token` in its own units.
 * @example formatTokenAmount(1500000n, { address, symbol: 'USDC', decimals: 6 }) // '1.5 USDC'
 */
export function formatTokenAmount(amount: string | bigint, token: Pick<TokenInfo, 'symbol' | 'decimals'>): string {
  return `${formatUnits(BigInt(amount), token.decimals)} ${token.symbol}`
}

/** The wallet holds less of the offer's token than the licence costs: no approval or purchase was sent. */
export class InsufficientTokenBalanceError extends StillflowError {
  override name = 'InsufficientTokenBalanceError'
  constructor(
    readonly token: TokenInfo,
    readonly balance: bigint,
    readonly amount: bigint,
  ) {
    super(
      `this wallet holds ${formatTokenAmount(balance, token)}, the licence costs ${formatTokenAmount(amount, token)}`,
      { details: `token ${token.address}` },
    )
  }
}

/**
 * Refuses (InsufficientTokenBalanceError) when `owner` holds less of the token than `approval.amount`:
 * the purchase would only revert. A CLI or page can ask this before the buyer confirms anything;
 * ensureAllowance asks again, since the balance may change meanwhile.
 */
export async function requireTokenBalance(
  provider: Provider,
  owner: string,
  approval: NonNullable<PurchaseQuote['approval']>,
  token?: TokenInfo,
): Promise<void> {
  const balance = (await new Contract(approval.token, erc20Abi, provider).balanceOf(owner)) as bigint
  const amount = BigInt(approval.amount)
  if (balance < amount)
    throw new InsufficientTokenBalanceError(token ?? (await tokenInfo(provider, approval.token)), balance, amount)
}

/**
 * Makes sure the market may take `approval.amount` of the token from the wallet (a quote's `approval`),
 * before the purchase: refuses when the balance is short (the purchase would only revert), and sends
 * `approve(spender, amount)` — exactly the amount, never unlimited, so a later bug or compromise of the
 * spender can take no more than this purchase — only when the current allowance is below it, and waits
 * for it to be mined. `chainId` (the quote's) refuses a wallet on another chain before it signs.
 * Returns whether it sent an approval.
 * @example if (quote.approval) await ensureAllowance(wallet, quote.approval, { chainId: quote.chainId })
 * await sendBuilt(wallet, quote)
 */
export async function ensureAllowance(
  signer: Signer,
  approval: NonNullable<PurchaseQuote['approval']>,
  opts: { chainId?: number; token?: TokenInfo } = {},
): Promise<boolean> {
  if (opts.chainId !== undefined) await requireChain(signer, opts.chainId)
  const owner = await signer.getAddress()
  const amount = BigInt(approval.amount)
  const c = new Contract(approval.token, erc20Abi, signer)
  const [allowance] = await Promise.all([
    c.allowance(owner, approval.spender) as Promise<bigint>,
    requireTokenBalance(signer.provider!, owner, approval, opts.token),
  ])
  if (allowance >= amount) return false
  const sent = await c.approve(approval.spender, amount)
  const receipt = await sent.wait()
  if (!receipt) throw new StillflowError(`approval transaction ${sent.hash} was dropped`)
  await nonceAfter(signer, owner, sent.nonce)
  return true
}

/**
 * Waits (at most ~5 s) until the provider counts the wallet's transaction `nonce`. The purchase follows at
 * once, and ethers answers a request identical to one made within the last 250 ms from a cache (see
 * findLicences): a wallet that numbers its own transactions would reuse the approval's nonce and the
 * purchase would fail with "nonce has already been used". A browser wallet numbers them itself; no harm.
 */
async function nonceAfter(signer: Signer, owner: string, nonce: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    if ((await signer.provider!.getTransactionCount(owner, 'pending')) > nonce) return
    await new Promise((r) => setTimeout(r, 100))
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
