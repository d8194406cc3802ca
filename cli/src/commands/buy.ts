// `stillflow buy <asset> <offer>`: the buyer's purchase, with the total cost shown first (R6, R10): the price
// goes to the contract, which splits it into the owner's and the platform's withdrawable balances. The NFT
// never moves. An offer priced in the native currency is one transaction; one priced in an ERC-20 may need a
// second one first, an approval of exactly the price, since the market pulls the price with transferFrom.
import { formatEther } from 'ethers'
import {
  ensureAllowance,
  formatTokenAmount,
  InsufficientTokenBalanceError,
  marketEvents,
  quotePurchase,
  requireTokenBalance,
  sendBuilt,
  tokenInfo,
  type PurchaseQuote,
  type TokenInfo,
} from '../../../sdk/src/index'
import type { Command } from '../command'
import { api, asCliError, keyOptions, signer, toCliError } from '../context'
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
    const { approval } = quote
    if (!/^0x0{40}$/i.test(quote.currency) && !approval)
      throw new CliError(
        EXIT.failure,
        `offer #${offerId} is priced in ERC-20 ${quote.currency}, but the marketplace did not say what to approve`,
      )
    // A token's amounts are shown in its own units, so its symbol and decimals are read before asking; the
    // native path needs no key until the buyer has said yes.
    let wallet = approval ? await signer(ctx) : undefined
    const token = approval ? await tokenInfo(wallet!.provider!, approval.token) : undefined
    const money = (v: string) => (token ? formatTokenAmount(v, token) : `${formatEther(v)} ETH`)
    if (!ctx.json) ctx.stderr.write(summary(tokenId, offerId, quote, money, token))
    // A short token balance is told before the buyer is asked anything (ensureAllowance checks it again).
    if (approval) await requireTokenBalance(wallet!.provider!, wallet!.address, approval, token).catch(refuseShort)
    if (ctx.flags.yes !== true) {
      if (!process.stdin.isTTY || ctx.json)
        throw new CliError(EXIT.usage, 'not a terminal: pass --yes to buy without the confirmation prompt')
      if (!(await confirm('buy it? [y/N] '))) throw new CliError(EXIT.rejected, 'not bought')
    }
    wallet ??= await signer(ctx)
    let approvalSent = false
    if (approval) {
      try {
        approvalSent = await ensureAllowance(wallet, approval, { chainId: quote.chainId, token })
      } catch (err) {
        refuseShort(err)
      }
      if (approvalSent && !ctx.json) ctx.stderr.write(`approved the marketplace to take ${money(quote.price)}\n`)
    }
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
        ...(token ? { currency: token.address, symbol: token.symbol, decimals: token.decimals, approvalSent } : {}),
        expiresAt,
        txHash: receipt.hash,
      }
    } catch (err) {
      const e = toCliError(err)
      // The approval is spent only by a purchase, so a retry finds it and sends none.
      if (approvalSent) e.message += ` (the approval of ${money(quote.price)} stays; buying again uses it)`
      throw e
    }
  },
}

/** Not enough of the token is the buyer's to fix, like a refusal (exit 3): nothing was sent. */
function refuseShort(err: unknown): never {
  if (err instanceof InsufficientTokenBalanceError)
    throw new CliError(EXIT.rejected, err.shortMessage, {
      token: err.token.address,
      balance: err.balance.toString(),
      price: err.amount.toString(),
    })
  asCliError(err)
}

/** What the buyer is asked to agree to: the terms, the total and its split, and for a token the approval. */
function summary(
  tokenId: string,
  offerId: string,
  quote: PurchaseQuote,
  money: (v: string) => string,
  token: TokenInfo | undefined,
): string {
  // describeOffer prices in ETH; for a token only its other terms stand.
  const terms = token
    ? [money(quote.price), ...describeOffer(quote).split(' · ').slice(1)].join(' · ')
    : describeOffer(quote)
  let text =
    `licence on asset #${tokenId}, offer #${offerId}: ${terms}\n` +
    `  total cost  ${money(quote.price)} (+ gas${token ? ' in ETH' : ''})\n` +
    `  of which    ${money(quote.ownerReceives)} to the owner, ${money(quote.fee)} platform fee\n`
  if (token && quote.approval)
    text +=
      `  currency    ${token.symbol} (ERC-20 ${token.address})\n` +
      `  first       unless this wallet already allows it, a transaction approving the marketplace\n` +
      `              (${quote.approval.spender}) to take exactly ${money(quote.approval.amount)}, never more\n`
  return text
}
