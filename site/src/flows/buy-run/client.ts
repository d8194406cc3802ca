// Buy and run, from the buyer's browser (issue 7; DESIGN §3 "Buy a licence", "Compute job"; R6, R9, R51,
// R58): the purchase quote with its total cost before signing, one DataMarket transaction, the buyer's
// licences read from the chain, and a compute job whose result key is made, used and wiped here.
import { formatEther } from 'ethers'
import {
  findLicences,
  marketEvents,
  quotePurchase,
  runComputeJob,
  sendBuilt,
  type JobOutcome,
  type JobView,
  type LicenceState,
  type PurchaseQuote,
} from '../../../../sdk/src/index'
import { api, currentWallet } from '../../wallet/index'
import { rememberResult } from '../results'

export { renderResult } from '../result-view'

export interface QuoteView extends PurchaseQuote {
  /** Plain words for the confirmation: what leaves the wallet and where it goes. */
  summary: string
}

export async function quote(tokenId: string, offerId: string): Promise<QuoteView> {
  const q = await quotePurchase(api, tokenId, offerId)
  const native = /^0x0{40}$/i.test(q.currency)
  const unit = native ? 'ETH' : `units of token ${q.currency}`
  return {
    ...q,
    summary:
      `You pay ${formatEther(q.price)} ${unit} in total, plus gas: ${formatEther(q.ownerReceives)} to the owner and ` +
      `${formatEther(q.fee)} platform fee. The licence allows ${q.maxJobs} jobs and ε ${q.epsilonBudgetMilli / 1000} ` +
      `for ${Math.round(q.durationSeconds / 86_400)} days.`,
  }
}

/** Sends the quoted purchase from the connected wallet; one transaction. */
export async function buy(q: PurchaseQuote): Promise<{ licenceId: string; txHash: string; blockNumber: number }> {
  const wallet = await currentWallet()
  const receipt = await sendBuilt(wallet.signer, q)
  const { licenceId } = marketEvents(receipt)
  if (!licenceId) throw new Error(`Transaction ${receipt.hash} was mined but bought no licence.`)
  return { licenceId, txHash: receipt.hash, blockNumber: receipt.blockNumber }
}

/**
 * The connected buyer's licences for this asset, straight from the chain (no indexer needed); after a
 * purchase, `seenAtBlock` makes sure the read reaches the purchase's block.
 */
export async function myLicences(
  tokenId: string,
  seenAtBlock?: number,
): Promise<{ address: string; licences: LicenceState[] }> {
  const wallet = await currentWallet()
  const c = wallet.config
  const licences = await findLicences(
    wallet.provider,
    c.contracts.DataMarket,
    wallet.address,
    tokenId,
    c.deployedAtBlock,
    seenAtBlock,
  )
  return { address: wallet.address, licences }
}

export async function runQuery(opts: {
  tokenId: string
  contentHash: string
  licenceId: string
  sql: string
  onStatus: (text: string, job?: JobView) => void
}): Promise<JobOutcome> {
  const wallet = await currentWallet()
  const c = wallet.config
  opts.onStatus('Sign the job request in your wallet')
  const outcome = await runComputeJob({
    api,
    signer: wallet.signer,
    market: { chainId: c.chainId, dataMarket: c.contracts.DataMarket },
    computeLedger: c.contracts.ComputeLedger,
    licenceId: opts.licenceId,
    contentHash: opts.contentHash,
    query: opts.sql,
    onSubmitted: (job) => opts.onStatus(`Job ${job.jobId} accepted: queued`),
    onStatus: (job) => opts.onStatus(`Job ${job.jobId}: ${job.status}`, job),
  })
  opts.onStatus(`Job ${outcome.jobId}: succeeded — result verified against the enclave’s receipt and decrypted here`)
  rememberResult(wallet.address, outcome.jobId, { query: opts.sql, tokenId: opts.tokenId, result: outcome.result })
  return outcome
}
