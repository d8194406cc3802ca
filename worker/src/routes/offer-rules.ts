// Whether an offer sells: the one rule, as DataMarket.buyLicence decides it, for the routes that read
// offers from the chain (offers, licences) and from the index (catalog). Kept apart from the routes so
// that none of them imports another for it.
import { NATIVE_CURRENCY } from '../../../contracts/index'

/** Why an offer the chain still holds cannot be bought (DataMarket.buyLicence reverts for each). */
export type OfferLapse =
  'withdrawn' | 'previous_owner' | 'set_before_transfer' | 'asset_revoked' | 'asset_frozen' | 'currency_not_allowed'

/** The native currency: `buyLicence` takes it as msg.value and never consults the ERC-20 allow-list. */
export const isNativeCurrency = (currency: string): boolean => currency.toLowerCase() === NATIVE_CURRENCY

/** The one rule for whether an offer sells, as DataMarket.buyLicence checks it (first reason wins). */
export function offerLapse(
  offer: {
    active: boolean
    owner: string
    /** The asset changed hands after the offer was set (its `tenure` is not the asset's `transfers`). */
    superseded: boolean
    currency: string
    /** The market accepts `currency` now (`isCurrencyAllowed`); not consulted for the native currency. */
    currencyAllowed: boolean
  },
  asset: { owner: string; revoked: boolean; frozen: boolean },
): OfferLapse | undefined {
  if (!offer.active) return 'withdrawn'
  if (offer.owner.toLowerCase() !== asset.owner.toLowerCase()) return 'previous_owner'
  // The same account owns it again after a transfer away and back: its old terms stay retired.
  if (offer.superseded) return 'set_before_transfer'
  if (asset.revoked) return 'asset_revoked'
  if (asset.frozen) return 'asset_frozen'
  // setOffer checked the allow-list, but the admin may have taken the token off it since; buyLicence
  // checks again before pulling the price.
  if (!isNativeCurrency(offer.currency) && !offer.currencyAllowed) return 'currency_not_allowed'
  return undefined
}

/** The asset as `DataAssetNFT.assetInfo` returns it (an ethers Result, read by name). */
export interface ChainAssetInfo {
  owner: string
  revoked: boolean
  frozen: boolean
  transfers: bigint
}

/** An offer as `DataMarket.offer` returns it (an ethers Result, read by name), the fields the rule reads. */
export interface ChainOffer {
  active: boolean
  owner: string
  tenure: bigint
  currency: string
}

/**
 * `offerLapse` for an offer and an asset read from the chain (`DataMarket.offer`, `assetInfo`), with
 * `currencyAllowed` what `DataMarket.isCurrencyAllowed(offer.currency)` answers (any value for the native
 * currency, which the rule does not consult).
 */
export function chainOfferLapse(o: ChainOffer, info: ChainAssetInfo, currencyAllowed: boolean): OfferLapse | undefined {
  return offerLapse(
    {
      active: Boolean(o.active),
      owner: String(o.owner),
      superseded: BigInt(o.tenure) !== BigInt(info.transfers),
      currency: String(o.currency),
      currencyAllowed,
    },
    { owner: String(info.owner), revoked: Boolean(info.revoked), frozen: Boolean(info.frozen) },
  )
}
