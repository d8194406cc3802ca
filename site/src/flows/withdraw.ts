// Withdraw, the owner's pull payment (DataMarket.withdraw; R21): one transaction from the owner's wallet;
// the page then shows what arrived in the wallet, read from the chain before and after.
import { Interface } from 'ethers'
import { formatEth } from '../lib/format'
import { dataMarketAbi } from '../../../contracts/index'
import { sendBuilt } from '../../../sdk/src/index'
import { savedChoice } from '../wallet/choice'
import { currentWallet } from '../wallet/index'

const market = new Interface(dataMarketAbi)
const NATIVE = /^0x0{40}$/i

const notTheOwner = (owner: string, connected: string) =>
  new Error(`This dashboard is for ${owner}; the connected wallet is ${connected}. Only the owner can withdraw.`)

export async function withdraw(currency: string, owner: string): Promise<string> {
  // Asked before the wallet is: connecting announces the wallet, and the address picker then follows it to
  // that wallet's own dashboard, so the reader would land elsewhere without this sentence (site tester).
  const saved = savedChoice()
  if (saved && saved.address.toLowerCase() !== owner.toLowerCase()) throw notTheOwner(owner, saved.address)
  const wallet = await currentWallet()
  if (wallet.address.toLowerCase() !== owner.toLowerCase()) throw notTheOwner(owner, wallet.address)
  const c = wallet.config
  const before = NATIVE.test(currency) ? await wallet.provider.getBalance(wallet.address) : null
  const receipt = await sendBuilt(wallet.signer, {
    chainId: c.chainId,
    to: c.contracts.DataMarket,
    data: market.encodeFunctionData('withdraw', [currency]),
    value: '0',
  })
  const withdrawn = receipt.logs
    .map((l) => {
      try {
        return market.parseLog(l)
      } catch {
        return null
      }
    })
    .find((e) => e?.name === 'PaymentWithdrawn')
  if (before === null) return `Withdrawn in transaction ${receipt.hash}.`
  const after = await wallet.provider.getBalance(wallet.address, receipt.blockNumber)
  const amount = withdrawn ? ` ${formatEth(withdrawn.args.amount as bigint)}` : ''
  return `Withdrew${amount} in transaction ${receipt.hash}: the wallet went from ${formatEth(before)} to ${formatEth(after)} (after gas).`
}
