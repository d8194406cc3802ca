// `stillflow withdraw`: the owner's pull payment (DataMarket.withdraw; R21). Licence sales leave the owner's
// share in the market contract; this shows how much this account may withdraw in ETH, read from the chain,
// and sends it to the account in one transaction. Before, only the site could.
import { Contract, formatEther } from 'ethers'
import { dataMarketAbi, NATIVE_CURRENCY } from '../../../contracts/index'
import { sendBuilt } from '../../../sdk/src/index'
import type { Command } from '../command'
import { api, asCliError, keyOptions, signer } from '../context'
import { CliError, EXIT } from '../exit-codes'
import { confirm } from '../prompt'

export const withdrawCommand: Command = {
  name: 'withdraw',
  summary: 'withdraw what your licence sales earned, in ETH (shows the amount before sending)',
  usage: 'stillflow withdraw [--yes] [--key-file FILE | --dev-account N] [--json]',
  options: { ...keyOptions, yes: { type: 'boolean', short: 'y' } },
  async run(ctx) {
    if (ctx.args.length) throw new CliError(EXIT.usage, 'withdraw takes no arguments')
    const wallet = await signer(ctx)
    try {
      const chain = await api(ctx).request<{ chainId: number; contracts: Record<string, string> }>('/chain')
      const marketAddress = chain.contracts.DataMarket
      const market = new Contract(marketAddress, dataMarketAbi, wallet.provider)
      const pending = (await market.pendingWithdrawal(wallet.address, NATIVE_CURRENCY)) as bigint
      if (pending === 0n) throw new CliError(EXIT.rejected, `${wallet.address} has nothing to withdraw in ETH`)
      if (!ctx.json) ctx.stderr.write(`${wallet.address} may withdraw ${formatEther(pending)} ETH (+ gas)\n`)
      if (ctx.flags.yes !== true) {
        if (!process.stdin.isTTY || ctx.json)
          throw new CliError(EXIT.usage, 'not a terminal: pass --yes to withdraw without the confirmation prompt')
        if (!(await confirm('withdraw it? [y/N] '))) throw new CliError(EXIT.rejected, 'not withdrawn')
      }
      const receipt = await sendBuilt(wallet, {
        chainId: chain.chainId,
        to: marketAddress,
        data: market.interface.encodeFunctionData('withdraw', [NATIVE_CURRENCY]),
        value: '0',
      })
      // What the contract paid, from its event (the balance may have grown since it was read).
      const paid = receipt.logs.map((l) => market.interface.parseLog(l)).find((e) => e?.name === 'PaymentWithdrawn')
        ?.args.amount as bigint | undefined
      const amount = paid ?? pending
      if (!ctx.json) ctx.stdout.write(`withdrew ${formatEther(amount)} ETH (tx ${receipt.hash})\n`)
      return { account: wallet.address, currency: NATIVE_CURRENCY, amount: amount.toString(), txHash: receipt.hash }
    } catch (err) {
      asCliError(err)
    }
  },
}
