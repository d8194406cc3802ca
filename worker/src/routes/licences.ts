// /api/licences — buying and reading licences (DESIGN §3 "Buy a licence"; R6, R9, R10). Buying is one
// transaction from the buyer's wallet; this API builds it with the total cost and the fee split shown
// first. The contract splits the payment; the NFT never moves (R6).
import { Hono } from 'hono'
import { Interface } from 'ethers'
import { z } from 'zod'
import { dataAssetNftAbi, dataMarketAbi } from '../../../contracts/index'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { readJson } from '../middleware/body'
import { readContracts } from '../services/chain'
import { addressBook } from '../services/config'
import { chainOfferLapse, isNativeCurrency, type ChainAssetInfo, type ChainOffer } from './offer-rules'
import { currenciesAllowed, parseTokenId, uintOf } from './offers'

const market = new Interface(dataMarketAbi)
export const buildSchema = z.strictObject({ tokenId: uintOf(256, true), offerId: uintOf(256, true) })

function refuseUnsellable(
  tokenId: bigint,
  offerId: bigint,
  offer: ChainOffer,
  info: ChainAssetInfo,
  currencyAllowed: boolean,
): void {
  const lapse = chainOfferLapse(offer, info, currencyAllowed)
  const which = `offer ${offerId} of asset ${tokenId}`
  switch (lapse) {
    case undefined:
      return
    case 'withdrawn':
      throw new ApiError(409, 'offer_inactive', `${which} was withdrawn`, { inactive: lapse })
    case 'previous_owner':
      throw new ApiError(
        409,
        'offer_inactive',
        `${which} was set by a previous owner (${offer.owner}); the asset now belongs to ${info.owner}, and only its current owner's offers sell`,
        { inactive: lapse, owner: info.owner },
      )
    case 'set_before_transfer':
      throw new ApiError(
        409,
        'offer_inactive',
        `${which} was set before the asset last changed hands; offers set before a transfer never sell again, even when the asset comes back to their owner`,
        { inactive: lapse, owner: info.owner },
      )
    case 'asset_revoked':
      throw new ApiError(409, 'asset_revoked', `asset ${tokenId} was revoked by its owner; its offers no longer sell`)
    case 'asset_frozen':
      throw new ApiError(
        409,
        'asset_frozen',
        `asset ${tokenId} is frozen by a supervisor; its offers do not sell meanwhile`,
      )
    case 'currency_not_allowed':
      throw new ApiError(
        409,
        'currency_not_allowed',
        `${which} is priced in ${offer.currency}, a token the marketplace no longer accepts (the marketplace ` +
          'admin decides which tokens it takes); it cannot be bought unless the admin accepts that token again',
        { inactive: lapse, currency: offer.currency },
      )
  }
}

export const licences = new Hono<AppEnv>()
  // The unsigned `buyLicence` transaction and what it costs: { chainId, to, data, value, price, fee, ... }.
  .post('/build', async (c) => {
    const body = await readJson(c.req, 1024, {
      code: 'invalid_json',
      message: 'the body must be JSON { tokenId, offerId }',
    })
    const parsed = buildSchema.safeParse(body)
    if (!parsed.success) {
      const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')
      throw new ApiError(
        400,
        'invalid_purchase',
        `the body is { tokenId, offerId }, each a positive integer (${detail})`,
      )
    }
    const { tokenId, offerId } = parsed.data
    const [[count], [feeBps]] = await readContracts(c.env, [
      { contract: 'DataMarket', abi: dataMarketAbi, fn: 'offerCount', args: [tokenId] },
      { contract: 'DataMarket', abi: dataMarketAbi, fn: 'platformFeeBps' },
    ])
    if (offerId > (count as bigint))
      throw new ApiError(404, 'offer_not_found', `asset ${tokenId} has no offer ${offerId}`)
    const [[o], info] = await readContracts(c.env, [
      { contract: 'DataMarket', abi: dataMarketAbi, fn: 'offer', args: [tokenId, offerId] },
      { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'assetInfo', args: [tokenId] },
    ])
    const currency = String(o.currency)
    const native = isNativeCurrency(currency)
    // The allow-list as it stands now (buyLicence consults it again): asked only for an ERC-20 offer.
    const allowed = native || ((await currenciesAllowed(c.env, [currency])).get(currency.toLowerCase()) ?? false)
    // Refused here as the contract would refuse it, before the buyer signs and pays gas for a revert.
    refuseUnsellable(tokenId, offerId, o as unknown as ChainOffer, info as unknown as ChainAssetInfo, allowed)
    const price = o.price as bigint
    const fee = (price * BigInt(feeBps as bigint)) / 10_000n
    const book = addressBook(c.env)
    return c.json({
      chainId: book.chainId,
      to: book.contracts.DataMarket,
      data: market.encodeFunctionData('buyLicence', [tokenId, offerId]),
      // ERC-20 offers are pulled with transferFrom after an approve; the transaction itself carries no value.
      value: native ? price.toString() : '0',
      tokenId: tokenId.toString(),
      offerId: offerId.toString(),
      price: price.toString(),
      currency,
      fee: fee.toString(),
      ownerReceives: (price - fee).toString(),
      owner: String(o.owner),
      durationSeconds: Number(o.duration),
      maxJobs: Number(o.maxJobs),
      epsilonBudgetMilli: Number(o.epsilonBudgetMilli),
      // buyLicence pulls an ERC-20 price with transferFrom: the buyer's wallet must first approve the market
      // for at least the price in that token, or the purchase reverts. (The request does not name the buyer,
      // so their balance and current allowance are theirs to check.)
      ...(native
        ? {}
        : { approval: { token: currency, spender: book.contracts.DataMarket, amount: price.toString() } }),
    })
  })
  .get('/:id', async (c) => {
    const licenceId = parseTokenId(c.req.param('id'), 'licenceId')
    const [[count]] = await readContracts(c.env, [{ contract: 'DataMarket', abi: dataMarketAbi, fn: 'licenceCount' }])
    if (licenceId > (count as bigint))
      throw new ApiError(404, 'licence_not_found', `licence ${licenceId} does not exist`)
    const [[l], [live]] = await readContracts(c.env, [
      { contract: 'DataMarket', abi: dataMarketAbi, fn: 'licence', args: [licenceId] },
      { contract: 'DataMarket', abi: dataMarketAbi, fn: 'isLicenceLive', args: [licenceId] },
    ])
    return c.json({
      licenceId: licenceId.toString(),
      buyer: String(l.buyer),
      tokenId: (l.tokenId as bigint).toString(),
      offerId: (l.offerId as bigint).toString(),
      jobsLeft: Number(l.jobsLeft),
      epsilonLeftMilli: Number(l.epsilonLeftMilli),
      expiresAt: Number(l.expiresAt),
      purchasedAt: Number(l.purchasedAt),
      live: Boolean(live),
    })
  })
