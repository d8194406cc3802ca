// `stillflow buy <asset> <offer>`: one transaction from the buyer's wallet, with the total cost shown
// first (R6, R10): the price goes to the contract, which splits it into the owner's and the platform's
// withdrawable balances. The NFT never moves.
import { formatEther } from 'ethers'
import { marketEvents, quotePurchase, sendBuilt, type PurchaseQuote } from '../../../sdk/src/index'
import type { Command } from '../command'
import { api, asCliError, keyOptions, signer } from '../context'
import { CliError, EXIT } from '../exit-codes'
import { confirm } from '../prompt'
import { describeOffer } from './offer'

export const buyCommand: Command = {
  name: 'buy',
  summary: 'buy a licence to compute on an asset (shows the total cost before sending)',
  usage: 'stillflow buy <asset> <offer> [--yes] [--key-file FILE | --dev-account N] [--json]',
  options: { ...keyOptions, yes: { type: 'boolean', short: 'y' } },
  async run(ctx) {
    const [tokenId, offerId] = ctx.args
    if (!tokenId || !offerId || ctx.args.length > 2 || !/^[1-9][0-9]*$/.test(tokenId + offerId))
      throw new CliError(EXIT.usage, 'give the asset id and the offer id')
    let quote: PurchaseQuote
    try {
      quote = await quotePurchase(api(ctx), tokenId, offerId)
    } catch (err) {
      asCliError(err)
    }
    if (!/^0x0{40}$/i.test(quote.currency))
      throw new CliError(
        EXIT.rejected,
        `offer #${offerId} is priced in ERC-20 ${quote.currency}; the CLI pays only in ETH`,
      )
    const summary =
      `licence on asset #${tokenId}, offer #${offerId}: ${describeOffer(quote)}\n` +
      `  total cost  ${formatEther(quote.price)} ETH (+ gas)\n` +
      `  of which    ${formatEther(quote.ownerReceives)} ETH to the owner, ${formatEther(quote.fee)} ETH platform fee\n`
    if (!ctx.json) ctx.stderr.write(summary)
    if (ctx.flags.yes !== true) {
      if (!process.stdin.isTTY || ctx.json)
        throw new CliError(EXIT.usage, 'not a terminal: pass --yes to buy without the confirmation prompt')
      if (!(await confirm('buy it? [y/N] '))) throw new CliError(EXIT.rejected, 'not bought')
    }
    const wallet = await signer(ctx)
    try {
      const receipt = await sendBuilt(wallet, quote)
      const { licenceId, expiresAt } = marketEvents(receipt)
      if (!ctx.json) ctx.stdout.write(`bought licence #${licenceId} (tx ${receipt.hash})\n`)
      return {
        licenceId,
        tokenId,
        offerId,
        buyer: wallet.address,
        price: quote.price,
        fee: quote.fee,
        ownerReceives: quote.ownerReceives,
        expiresAt,
        txHash: receipt.hash,
      }
    } catch (err) {
      asCliError(err)
    }
  },
}
