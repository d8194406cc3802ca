// Buy and run, from the buyer's browser (issue 7; DESIGN §3 "Buy a licence", "Compute job"; R6, R9, R51,
// R58): the purchase quote with its total cost before signing, one DataMarket transaction, the buyer's
// licences read from the chain, and a compute job whose result key is made here and kept in this browser
// (flows/result-keys.ts) until its result is opened — so a reload or a closed tab never loses a result the
// licence paid for: the asset page and the buyer dashboard open it later with the same checks. A licence
// priced in an ERC-20 needs the wallet's approval of exactly the price before the purchase (sdk
// ensureAllowance), asked for only when the allowance is short.
import {
  ApiRequestError,
  collectJobResult,
  ensureAllowance,
  findLicences,
  formatTokenAmount,
  JobNotSucceededError,
  marketEvents,
  quotePurchase,
  runComputeJob,
  sendBuilt,
  tokenInfo,
  type JobOutcome,
  type JobView,
  type LicenceState,
  type PurchaseQuote,
  type TokenInfo,
} from '../../../../sdk/src/index'
import { endSentence } from '../../lib/format'
import { api, currentWallet, DescribedError, explainError } from '../../wallet/index'
import { rememberResult } from '../results'
import { purchaseSummary } from './summary'
import { forgetResultKey, keepResultKey, ResultKeyStorageError, type KeptResultKey } from '../result-keys'

export { renderResult } from '../result-view'

export interface QuoteView extends PurchaseQuote {
  /** Plain words for the confirmation: what leaves the wallet and where it goes. */
  summary: string
  /** The ERC-20 the price is in (only with `approval`). */
  token?: TokenInfo
}

/**
 * The purchase in words; `perQueryMilli` is the ε one query spends under the asset's policy (summary.ts).
 * A token price is read in the token's units through the connected wallet (the browser has no RPC of its
 * own off a development chain), so that review asks for a wallet; a native price does not.
 */
export async function quote(tokenId: string, offerId: string, perQueryMilli: number | null): Promise<QuoteView> {
  const q = await quotePurchase(api, tokenId, offerId)
  const token = q.approval ? await tokenInfo((await currentWallet()).provider, q.approval.token) : undefined
  return { ...q, token, summary: purchaseSummary(q, perQueryMilli, token) }
}

/**
 * Sends the quoted purchase from the connected wallet: one transaction, preceded for a token price by an
 * approval of exactly the price when the allowance is short. A balance below the price stops it before
 * either (InsufficientTokenBalanceError, shown like any failure).
 */
export async function buy(
  q: QuoteView,
  /** Says which wallet prompt comes next: a token price may need an approval before the purchase. */
  onStep: (step: 'approve' | 'purchase') => void = () => undefined,
): Promise<{ licenceId: string; txHash: string; blockNumber: number }> {
  const wallet = await currentWallet()
  let approved = false
  if (q.approval) {
    onStep('approve')
    approved = await ensureAllowance(wallet.signer, q.approval, { chainId: q.chainId, token: q.token })
  }
  onStep('purchase')
  const receipt = await sendBuilt(wallet.signer, q).catch((err: unknown) => {
    if (!approved || !q.approval) throw err
    // The approval is spent only by a purchase: the buyer should know it is still there, and harmless.
    const { message, reference } = explainError(err)
    const amount = q.token ? formatTokenAmount(q.approval.amount, q.token) : q.approval.amount
    throw new DescribedError(
      `${endSentence(message)} The approval you gave the marketplace to take ${amount} stays; buying again uses it without a second approval.`,
      reference,
    )
  })
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

// Leaving the page while a job is in flight loses nothing (its key is kept), but the buyer would no
// longer see it finish here: the browser asks first.
let inFlight = 0
const warn = (e: BeforeUnloadEvent) => {
  e.preventDefault()
  e.returnValue = ''
}
async function guardUnload<T>(work: Promise<T>): Promise<T> {
  if (inFlight++ === 0) addEventListener('beforeunload', warn)
  try {
    return await work
  } finally {
    if (--inFlight === 0) removeEventListener('beforeunload', warn)
  }
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
  let kept: KeptResultKey | undefined
  let submitted = false
  let release: (() => void) | undefined
  opts.onStatus('Sign the job request in your wallet')
  try {
    const outcome = await runComputeJob({
      api,
      signer: wallet.signer,
      market: { chainId: c.chainId, dataMarket: c.contracts.DataMarket },
      computeLedger: c.contracts.ComputeLedger,
      licenceId: opts.licenceId,
      contentHash: opts.contentHash,
      query: opts.sql,
      beforeSubmit: async (job) => {
        kept = {
          jobId: job.jobId,
          secretKey: job.resultKey.secretKey,
          buyer: wallet.address,
          tokenId: opts.tokenId,
          query: opts.sql,
          chainId: c.chainId,
          computeLedger: c.contracts.ComputeLedger,
          deadline: job.deadline,
          createdAt: Math.floor(Date.now() / 1000),
        }
        try {
          await keepResultKey(kept)
        } catch (cause) {
          kept = undefined
          throw new ResultKeyStorageError(
            'This browser could not keep the job’s result key (is site storage disabled?), so nothing was submitted.',
            { cause },
          )
        }
        void guardUnload(new Promise<void>((r) => (release = r)))
      },
      onSubmitted: (job) => {
        submitted = true
        opts.onStatus(`Job ${job.jobId} accepted: queued. ${KEPT_NOTE}`)
      },
      onStatus: (job) => opts.onStatus(`Job ${job.jobId}: ${job.status}. ${KEPT_NOTE}`, job),
    })
    await keepOpened(kept!, outcome)
    opts.onStatus(SUCCEEDED(outcome.jobId))
    return outcome
  } catch (err) {
    // A job that ended without a result, or that the marketplace refused (a 4xx answer to the submission:
    // the query was rejected, the licence used up), never will have one: its key opens nothing. After a
    // 5xx or no answer the job may exist, so its key stays.
    const refused = !submitted && err instanceof ApiRequestError && err.status < 500
    if (kept && (refused || err instanceof JobNotSucceededError)) await forgetResultKey(kept.jobId)
    throw err
  } finally {
    release?.()
  }
}

const KEPT_NOTE = 'If you leave, its result can be opened later in this browser, here or on your buyer dashboard.'
const SUCCEEDED = (jobId: string) =>
  `Job ${jobId}: succeeded — result verified against the enclave’s receipt and decrypted here`

/** The opened result is kept for the dashboard, then the key is forgotten: it would open nothing new. */
async function keepOpened(key: KeptResultKey, outcome: JobOutcome): Promise<void> {
  rememberResult(key.buyer, outcome.jobId, { query: key.query, tokenId: key.tokenId, result: outcome.result })
  await forgetResultKey(key.jobId)
}

/**
 * Opens the result of a job started earlier in this browser (before a reload, in another tab) with its
 * kept key: waits for the job if it is still running, then fetches, verifies and decrypts exactly as
 * runQuery does (the client library's collectJobResult, the receipt checked against the chain and ledger
 * the job was submitted to). Needs no wallet: the key and the job id are all it takes.
 */
export async function openKeptJob(key: KeptResultKey, onStatus: (text: string) => void): Promise<JobOutcome> {
  try {
    const outcome = await guardUnload(
      collectJobResult(api, key.jobId, key.secretKey, {
        chainId: key.chainId,
        computeLedger: key.computeLedger,
        onStatus: (job) => onStatus(`Job ${job.jobId}: ${job.status}`),
      }),
    )
    await keepOpened(key, outcome)
    onStatus(SUCCEEDED(outcome.jobId))
    return outcome
  } catch (err) {
    if (err instanceof JobNotSucceededError) await forgetResultKey(key.jobId)
    else if (err instanceof ApiRequestError && err.status === 404 && err.code === 'job_not_found') {
      // Kept just before a submission that never reached the marketplace: there is nothing to open.
      await forgetResultKey(key.jobId)
      throw new Error(`The marketplace never accepted job ${key.jobId}; it cost nothing and has no result.`, {
        cause: err,
      })
    }
    throw err
  } finally {
    key.secretKey.fill(0)
  }
}
