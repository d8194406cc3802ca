// /api/offers — licence terms on sale (DESIGN §3 "Buy a licence"; R9, R66). Offers live on chain only:
// the owner's wallet signs `setOffer` / `withdrawOffer`; this API reads them and builds the unsigned
// transactions, so the operator never holds an owner's key nor sets a price (R66).
import { Hono } from 'hono'
import { Interface, isAddress } from 'ethers'
import { z } from 'zod'
import { dataAssetNftAbi, dataMarketAbi, NATIVE_CURRENCY } from '../../../contracts/index'
import type { AppEnv } from '../env'
import { ApiError, WRONG_CHECKSUM } from '../errors'
import { readJson } from '../middleware/body'
import { readContracts } from '../services/chain'
import { addressBook } from '../services/config'
import type { IndexerBindings } from '../indexer/settings'
import { assetPolicy } from './catalog'
import { chainOfferLapse, isNativeCurrency, type ChainAssetInfo, type ChainOffer, type OfferLapse } from './offer-rules'

const market = new Interface(dataMarketAbi)
/** Offers listed per asset in one answer (ids are 1..offerCount; older ones are usually withdrawn). */
const MAX_LISTED = 100

/**
 * A decimal integer (string or JSON number) that fits the contract's `uint<bits>` — and is > 0 when
 * `positive` — as a bigint. Larger values are a 400 here, not an encoding failure (a 500) later.
 */
export function uintOf(bits: number, positive = false) {
  const max = (1n << BigInt(bits)) - 1n
  return z
    .union([
      z.string().regex(/^[0-9]{1,78}$/, 'must be a whole number in decimal digits (prices in wei, not "0.01")'),
      z.number().int().nonnegative(),
    ])
    .transform((v) => BigInt(v))
    .refine((v) => v <= max && (!positive || v > 0n), `must be an integer from ${positive ? 1 : 0} to 2^${bits}-1`)
}
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/, 'must be an address')
  // Mixed case is an EIP-55 checksum, and a wrong one is a typo to catch, not to encode (ethers throws).
  .refine((a) => isAddress(a), WRONG_CHECKSUM)

/**
 * The wallet that will send the transaction, when the caller says: then the API can refuse a sender who
 * neither owns the asset nor is its delegate (the contract's DataMarketNotAssetManager) before it signs.
 */
const from = address.optional()

export const buildSchema = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('set'),
    tokenId: uintOf(256, true),
    from,
    // Each as wide as IDataMarket.OfferTerms holds it.
    terms: z.strictObject({
      /** Wei (or the ERC-20's smallest unit), decimal. */
      price: uintOf(128),
      currency: address.default(NATIVE_CURRENCY),
      durationSeconds: uintOf(64, true),
      maxJobs: uintOf(32, true),
      epsilonBudgetMilli: uintOf(64),
      purposes: uintOf(32, true).default(0xffffffffn),
    }),
  }),
  z.strictObject({ action: z.literal('withdraw'), tokenId: uintOf(256, true), offerId: uintOf(256, true), from }),
])

export interface OfferView {
  tokenId: string
  offerId: string
  owner: string
  price: string
  currency: string
  durationSeconds: number
  maxJobs: number
  epsilonBudgetMilli: number
  purposes: number
  /**
   * On sale now: not withdrawn, set by the asset's current owner since it last changed hands, the asset
   * neither revoked nor frozen, and (for an ERC-20 price) the token still accepted by the market.
   */
  active: boolean
  /** Why an offer cannot be bought now (only when `active` is false). */
  inactive?: OfferLapse
}

/**
 * Whether DataMarket accepts each ERC-20 now (`isCurrencyAllowed`), by lowercase address, in one batch;
 * the native currency is never asked (the allow-list does not apply to it). Empty without ERC-20s.
 */
export async function currenciesAllowed(env: AppEnv['Bindings'], currencies: string[]): Promise<Map<string, boolean>> {
  const tokens = [...new Set(currencies.map((c) => c.toLowerCase()))].filter((c) => !isNativeCurrency(c))
  if (!tokens.length) return new Map()
  const answers = await readContracts(
    env,
    tokens.map((t) => ({ contract: 'DataMarket', abi: dataMarketAbi, fn: 'isCurrencyAllowed', args: [t] })),
  )
  return new Map(tokens.map((t, i) => [t, Boolean(answers[i][0])]))
}

/** Offers of an asset as the chain holds them now (newest first), each saying whether it sells. */
export async function offersOf(env: AppEnv['Bindings'], tokenId: bigint): Promise<OfferView[]> {
  const [[n], [minted]] = await readContracts(env, [
    { contract: 'DataMarket', abi: dataMarketAbi, fn: 'offerCount', args: [tokenId] },
    { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'totalMinted' },
  ])
  // "No offers" would read as an asset that is simply not on sale.
  if (tokenId > (minted as bigint)) throw new ApiError(404, 'asset_not_found', `no asset ${tokenId} was ever minted`)
  const count = Number(n as bigint)
  const ids = Array.from({ length: Math.min(count, MAX_LISTED) }, (_, i) => BigInt(count - i))
  // An offer exists only for a minted token (setOffer reads assetInfo), so assetInfo cannot revert here.
  if (!ids.length) return []
  const [info, ...rows] = await readContracts(env, [
    { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'assetInfo', args: [tokenId] },
    ...ids.map((id) => ({ contract: 'DataMarket', abi: dataMarketAbi, fn: 'offer', args: [tokenId, id] })),
  ])
  // The allow-list as it stands now: the admin may have taken a token off it after offers were set in it.
  const allowed = await currenciesAllowed(
    env,
    rows.map(([o]) => String(o.currency)),
  )
  return rows.map(([o], i) => {
    const currency = String(o.currency)
    const lapse = chainOfferLapse(
      o as unknown as ChainOffer,
      info as unknown as ChainAssetInfo,
      allowed.get(currency.toLowerCase()) ?? false,
    )
    return {
      tokenId: tokenId.toString(),
      offerId: ids[i].toString(),
      owner: String(o.owner),
      price: (o.price as bigint).toString(),
      currency,
      durationSeconds: Number(o.duration),
      maxJobs: Number(o.maxJobs),
      epsilonBudgetMilli: Number(o.epsilonBudgetMilli),
      purposes: Number(o.purposes),
      active: !lapse,
      ...(lapse ? { inactive: lapse } : {}),
    }
  })
}

/**
 * 422 when a licence on these terms could never run a query: on a differentially private asset a query
 * with one aggregate costs the policy's ε per query, so a smaller ε budget sells a licence that only
 * refuses (the contract cannot know the policy). An asset whose policy cannot be read now is let through.
 */
async function refuseUselessBudget(env: AppEnv['Bindings'], tokenId: bigint, budgetMilli: bigint): Promise<void> {
  const policy = await assetPolicy(env as IndexerBindings, tokenId.toString())
  if (policy?.mode !== 'dp' || budgetMilli >= BigInt(policy.epsilonPerQueryMilli)) return
  const perQuery = policy.epsilonPerQueryMilli / 1000
  throw new ApiError(
    422,
    'offer_budget_below_query_cost',
    `asset ${tokenId}'s privacy policy spends ε ${perQuery} per query, so a licence with an ε budget of ` +
      `${Number(budgetMilli) / 1000} could never run one; offer at least ε ${perQuery}`,
    { epsilonPerQueryMilli: policy.epsilonPerQueryMilli },
  )
}

/**
 * 422 unless DataMarket accepts `currency` now (setOffer reverts DataMarketCurrencyNotAllowed). This also
 * refuses an ordinary account or an address with no contract: the admin can only allow a contract
 * (setCurrencyAllowed checks its code), and nothing else is ever on the list.
 */
async function refuseUnacceptedCurrency(env: AppEnv['Bindings'], currency: string): Promise<void> {
  if ((await currenciesAllowed(env, [currency])).get(currency.toLowerCase()) !== false) return
  throw new ApiError(
    422,
    'currency_not_allowed',
    `currency ${currency} is not one this marketplace accepts: the marketplace admin decides which ERC-20 ` +
      'tokens offers may be priced in, and an address that is not on that list (an ordinary account, or no ' +
      'contract at all) never is; price the offer in the native currency (leave currency out) or in an accepted token',
    { currency },
  )
}

/**
 * What setOffer and withdrawOffer check of the asset itself, refused first: 404 for a token never minted
 * (ids run 1..totalMinted and none is burned; assetInfo would revert), 403 when the named sender neither
 * owns the asset nor is its delegate, and for a new offer 409 while the asset is revoked or frozen
 * (withdrawing stays possible then, as on chain).
 */
async function refuseUnmanageable(
  env: AppEnv['Bindings'],
  action: 'set' | 'withdraw',
  tokenId: bigint,
  sender: string | undefined,
): Promise<void> {
  const [[minted]] = await readContracts(env, [{ contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'totalMinted' }])
  if (tokenId > (minted as bigint)) throw new ApiError(404, 'asset_not_found', `no asset ${tokenId} was ever minted`)
  const [[, , revoked, frozen], manages] = await readContracts(env, [
    { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'assetInfo', args: [tokenId] },
    ...(sender
      ? [{ contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'isAssetManager', args: [tokenId, sender] }]
      : []),
  ])
  if (manages && !manages[0])
    throw new ApiError(
      403,
      'not_asset_manager',
      `${sender} neither owns asset ${tokenId} nor is its delegate, so the contract would refuse its ${action === 'set' ? 'offer' : 'withdrawal'}; send it from the owner's wallet`,
      { tokenId: tokenId.toString(), from: sender },
    )
  if (action === 'withdraw') return
  if (revoked)
    throw new ApiError(409, 'asset_revoked', `asset ${tokenId} was revoked by its owner; it cannot be offered again`)
  if (frozen)
    throw new ApiError(
      409,
      'asset_frozen',
      `asset ${tokenId} is frozen by a supervisor; no offer can be set until it is unfrozen`,
    )
}

/**
 * 404 for an offer the asset does not have (withdrawOffer reverts DataMarketUnknownOffer) and 409 for one
 * withdrawn already (DataMarketOfferInactive). Whether the sender manages the asset (the third revert)
 * cannot be told here: the request does not say who will send it.
 */
async function refuseUnwithdrawable(env: AppEnv['Bindings'], tokenId: bigint, offerId: bigint): Promise<void> {
  const [[count]] = await readContracts(env, [
    { contract: 'DataMarket', abi: dataMarketAbi, fn: 'offerCount', args: [tokenId] },
  ])
  if (offerId > (count as bigint))
    throw new ApiError(404, 'offer_not_found', `asset ${tokenId} has no offer ${offerId}`)
  const [[o]] = await readContracts(env, [
    { contract: 'DataMarket', abi: dataMarketAbi, fn: 'offer', args: [tokenId, offerId] },
  ])
  if (!o.active)
    throw new ApiError(409, 'offer_inactive', `offer ${offerId} of asset ${tokenId} was withdrawn already`, {
      inactive: 'withdrawn',
    })
}

export function parseTokenId(raw: string | undefined, name = 'tokenId'): bigint {
  if (!raw || !/^[1-9][0-9]{0,77}$/.test(raw) || BigInt(raw) >= 1n << 256n)
    throw new ApiError(
      400,
      // snake_case like every other code: licenceId → invalid_licence_id
      `invalid_${name === 'tokenId' ? 'asset_id' : name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`,
      `${name} must be a positive decimal integer below 2^256`,
    )
  return BigInt(raw)
}

/** An offer's terms are a few numbers and an address: 8 KiB is far more than any valid body. */
const MAX_BUILD_BYTES = 8 * 1024

export const offers = new Hono<AppEnv>()
  .get('/', async (c) => {
    const tokenId = parseTokenId(c.req.query('tokenId'))
    const flag = c.req.query('active')
    if (flag !== undefined && flag !== 'true' && flag !== 'false')
      throw new ApiError(400, 'invalid_active', `active is true or false, not ${JSON.stringify(flag.slice(0, 20))}`)
    const active = flag === 'true'
    const all = await offersOf(c.env, tokenId)
    return c.json({ tokenId: tokenId.toString(), offers: active ? all.filter((o) => o.active) : all })
  })
  // Unsigned transactions for the owner's (or delegate's) wallet: { chainId, to, data, value }.
  .post('/build', async (c) => {
    const body = await readJson(c.req, MAX_BUILD_BYTES, { code: 'invalid_json', message: 'the body must be JSON' })
    const parsed = buildSchema.safeParse(body)
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')
      throw new ApiError(400, 'invalid_offer', detail)
    }
    const book = addressBook(c.env)
    const to = book.contracts.DataMarket
    const req = parsed.data
    // Refused here as the contract would refuse it, before the wallet signs and pays gas for a revert.
    await refuseUnmanageable(c.env, req.action, req.tokenId, req.from)
    if (req.action === 'set') {
      await refuseUnacceptedCurrency(c.env, req.terms.currency)
      await refuseUselessBudget(c.env, req.tokenId, req.terms.epsilonBudgetMilli)
    } else await refuseUnwithdrawable(c.env, req.tokenId, req.offerId)
    const data =
      req.action === 'set'
        ? market.encodeFunctionData('setOffer', [
            req.tokenId,
            {
              price: req.terms.price,
              currency: req.terms.currency,
              duration: req.terms.durationSeconds,
              maxJobs: req.terms.maxJobs,
              epsilonBudgetMilli: req.terms.epsilonBudgetMilli,
              purposes: req.terms.purposes,
            },
          ])
        : market.encodeFunctionData('withdrawOffer', [req.tokenId, req.offerId])
    return c.json({ chainId: book.chainId, to, data, value: '0' })
  })
