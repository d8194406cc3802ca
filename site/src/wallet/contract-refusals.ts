// DataMarket's refusals (contracts/src/interfaces/IDataMarket.sol) in the words of the person whose
// transaction was refused. The custom error itself, with its arguments, stays the reference support asks
// for (wallet/errors.ts); a refusal without words here is still shown, as the contract refusing.
import type { dataMarketAbi } from '../../../contracts/generated'

type MarketError = Extract<(typeof dataMarketAbi)[number], { type: 'error' }>['name']

// Only the refusals a buyer's or an owner's own transaction can meet (buy, set an offer, withdraw, and the
// licence checks); the administrator's (fee, treasury, currency list) are left to the reference.
const WORDS: Partial<Record<MarketError, string>> = {
  DataMarketUnknownOffer: 'this offer does not exist',
  DataMarketOfferInactive: 'this offer is no longer on sale (it was withdrawn, or the dataset changed hands)',
  DataMarketAssetRevoked: 'the owner has revoked this dataset',
  DataMarketAssetFrozen: 'this dataset is frozen',
  DataMarketWrongPayment: 'the amount sent is not the offer’s price; reload the page to see the current price',
  DataMarketPaymentShortfall: 'the token transfer delivered less than the price',
  DataMarketCurrencyNotAllowed: 'the marketplace does not accept this currency',
  DataMarketNotAssetManager: 'this account neither owns nor manages this dataset',
  DataMarketInvalidOfferTerms: 'an offer needs a duration, at least one job and at least one allowed purpose',
  DataMarketUnknownLicence: 'this licence does not exist',
  DataMarketLicenceExpired: 'this licence has expired',
  DataMarketJobQuotaExhausted: 'this licence has no jobs left',
  DataMarketEpsilonBudgetExceeded: 'this licence has too little ε left for the query',
  DataMarketNothingToWithdraw: 'there is nothing to withdraw in this currency',
  DataMarketTransferFailed: 'the payout could not be sent to this account',
}

/** The refusal as a clause, e.g. "this offer does not exist"; undefined for one without words here. */
export function refusalInWords(errorName: string | undefined): string | undefined {
  return errorName ? WORDS[errorName as MarketError] : undefined
}
