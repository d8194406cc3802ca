// The owner's side of the asset page (R9, R66): put the asset on sale on new terms and withdraw offers
// from the connected wallet — the same transactions `stillflow offer create|withdraw` sends; the API only
// builds them, and refuses first what the contract would (a stranger, a frozen or revoked asset).
import { buildSetOffer, buildWithdrawOffer, sendBuilt } from '../../../sdk/src/index'
import { api, currentWallet } from '../wallet/index'
import { FormError, readOffer } from './offer-form'

export { FormError }

interface ListedOffer {
  offerId: string
  live: boolean
  setTx: string
}

/**
 * Waits (up to ~30 s) until the catalogue, which the page is rendered from, shows what the transaction did:
 * the indexer reads the chain every few seconds, and a page read before it would show the old offers.
 */
async function untilListed(tokenId: string, done: (offers: ListedOffer[]) => boolean): Promise<void> {
  for (let i = 0; i < 60; i++) {
    const asset = await api.request<{ offers: ListedOffer[] }>(`/assets/${tokenId}`).catch(() => null)
    if (asset && done(asset.offers)) return
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** Sets the offer in `form`; returns the transaction hash once the catalogue lists it. */
export async function setOffer(form: HTMLFormElement, tokenId: string, perQueryMilli: number | null): Promise<string> {
  const terms = readOffer(form, perQueryMilli)
  if (!terms) throw new FormError('Price is required: 0 makes the licence free.', 'price')
  const wallet = await currentWallet()
  const receipt = await sendBuilt(wallet.signer, await buildSetOffer(api, tokenId, terms, { from: wallet.address }))
  await untilListed(tokenId, (offers) => offers.some((o) => o.setTx?.toLowerCase() === receipt.hash.toLowerCase()))
  return receipt.hash
}

/** Withdraws offer `offerId`; returns the transaction hash once the catalogue no longer sells it. */
export async function withdrawOffer(tokenId: string, offerId: string): Promise<string> {
  const wallet = await currentWallet()
  const tx = await buildWithdrawOffer(api, tokenId, offerId, { from: wallet.address })
  const receipt = await sendBuilt(wallet.signer, tx)
  await untilListed(tokenId, (offers) => !offers.some((o) => o.offerId === offerId && o.live))
  return receipt.hash
}
