// `stillflow offer create|list|withdraw`: an owner's licence terms on chain (R9, R66). The API builds the
// transaction; the owner's own wallet signs and sends it.
import { formatEther } from 'ethers'
import {
  buildSetOffer,
  buildWithdrawOffer,
  describeLapse,
  listOffers,
  marketEvents,
  sendBuilt,
  type Offer,
} from '../../../sdk/src/index'
import type { Command, CommandContext } from '../command'
import { api, asCliError, keyOptions, signer } from '../context'
import { CliError, EXIT } from '../exit-codes'
import { offerOptions, offerTerms } from '../offer-terms'

function assetId(raw: string | undefined, what = 'asset'): string {
  if (!raw || !/^[1-9][0-9]*$/.test(raw)) throw new CliError(EXIT.usage, `give the ${what} id (a positive integer)`)
  return raw
}

/** Human terms of an offer, one line. */
export function describeOffer(o: Pick<Offer, 'price' | 'durationSeconds' | 'maxJobs' | 'epsilonBudgetMilli'>): string {
  const days = o.durationSeconds / 86400
  const duration = days >= 1 ? `${+days.toFixed(2)} day${days === 1 ? '' : 's'}` : `${o.durationSeconds} s`
  return `${formatEther(o.price)} ETH · ${o.maxJobs} jobs · ε ${o.epsilonBudgetMilli / 1000} · ${duration}`
}

async function create(ctx: CommandContext) {
  const tokenId = assetId(ctx.args[1])
  const terms = offerTerms(ctx, true)!
  const wallet = await signer(ctx)
  try {
    const tx = await buildSetOffer(api(ctx), tokenId, terms, { from: await wallet.getAddress() })
    const receipt = await sendBuilt(wallet, tx)
    const { offerId } = marketEvents(receipt)
    if (!ctx.json)
      ctx.stdout.write(
        `offer #${offerId} on asset #${tokenId}: ${describeOffer({ ...terms, price: terms.price.toString() })}\n  transaction ${receipt.hash}\n`,
      )
    return { tokenId, offerId, txHash: receipt.hash, ...terms, price: terms.price.toString() }
  } catch (err) {
    asCliError(err)
  }
}

async function list(ctx: CommandContext) {
  const tokenId = assetId(ctx.args[1])
  let offers: Offer[]
  try {
    offers = await listOffers(api(ctx), tokenId, { activeOnly: ctx.flags.all !== true })
  } catch (err) {
    asCliError(err)
  }
  if (!ctx.json) {
    if (!offers.length) ctx.stdout.write(`asset #${tokenId} has no offers on sale\n`)
    for (const o of offers)
      ctx.stdout.write(`#${o.offerId}  ${describeOffer(o)}${o.active ? '' : `  (not on sale: ${describeLapse(o)})`}\n`)
  }
  return { tokenId, offers }
}

async function withdraw(ctx: CommandContext) {
  const tokenId = assetId(ctx.args[1])
  const offerId = assetId(ctx.args[2], 'offer')
  const wallet = await signer(ctx)
  try {
    const receipt = await sendBuilt(
      wallet,
      await buildWithdrawOffer(api(ctx), tokenId, offerId, { from: await wallet.getAddress() }),
    )
    if (!ctx.json) ctx.stdout.write(`withdrew offer #${offerId} of asset #${tokenId} (tx ${receipt.hash})\n`)
    return { tokenId, offerId, txHash: receipt.hash }
  } catch (err) {
    asCliError(err)
  }
}

export const offerCommand: Command = {
  name: 'offer',
  summary: 'put licence terms on sale, list them, or withdraw them (owner)',
  usage:
    'stillflow offer create <asset> --price ETH [--jobs N] [--epsilon E] [--days D | --seconds S] [--key-file FILE | --dev-account N]\n' +
    '       stillflow offer list <asset> [--all]\n' +
    '       stillflow offer withdraw <asset> <offer> [--key-file FILE | --dev-account N]',
  options: {
    ...keyOptions,
    ...offerOptions,
    all: { type: 'boolean' },
  },
  async run(ctx) {
    const sub = ctx.args[0]
    if (sub === 'create') return create(ctx)
    if (sub === 'list') return list(ctx)
    if (sub === 'withdraw') return withdraw(ctx)
    throw new CliError(EXIT.usage, 'use: offer create | offer list | offer withdraw')
  },
}
