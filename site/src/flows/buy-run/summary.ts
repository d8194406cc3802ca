// The purchase in plain words, shown before the buyer signs (R58): what leaves the wallet and where it
// goes, exact to the wei (or the token's smallest unit), the approval a token price needs first, and what
// the licence allows — including how many queries its ε budget covers under the asset's privacy policy.
// No browser or wallet code, so it is tested on its own (test/site/).
import { formatTokenAmount, type PurchaseQuote, type TokenInfo } from '../../../../sdk/src/index'
import { formatDuration, formatEpsilon, formatEth, plural, queriesAllowed } from '../../lib/format'

export type QuoteTerms = Pick<
  PurchaseQuote,
  'price' | 'ownerReceives' | 'fee' | 'currency' | 'maxJobs' | 'epsilonBudgetMilli' | 'durationSeconds' | 'approval'
>

/**
 * @example purchaseSummary(q, 1000) // "You pay 0.0015 ETH in total, plus gas: 0.0014625 ETH to the owner and
 * //   0.0000375 ETH platform fee. The licence allows 5 jobs and ε 2 for 1 hour. Each query spends ε 1 …"
 * `perQueryMilli`: the ε one query spends under the asset's policy (lib/format epsilonPerQueryMilli): 0 for
 * aggregates-only, whose licences carry an ε budget nothing ever spends, so it is not shown; null if unknown.
 * `token`: the symbol and decimals of an ERC-20 price (sdk tokenInfo), so its amounts read in the token's
 * units; without it they are the token's smallest units.
 */
export function purchaseSummary(
  q: QuoteTerms,
  perQueryMilli: number | null,
  token?: Pick<TokenInfo, 'symbol' | 'decimals'>,
): string {
  const native = /^0x0{40}$/i.test(q.currency)
  const amount = (v: bigint) =>
    native ? formatEth(v) : token ? formatTokenAmount(v, token) : `${v} units of token ${q.currency}`
  const pay =
    BigInt(q.price) === 0n
      ? 'This licence is free: you pay only the gas for the transaction.'
      : `You pay ${amount(BigInt(q.price))} in total, plus gas${native ? '' : ' in ETH'}: ` +
        `${amount(BigInt(q.ownerReceives))} to the owner and ${amount(BigInt(q.fee))} platform fee.` +
        approvalStep(q, amount)
  const jobs = plural(q.maxJobs, 'job')
  const duration = formatDuration(q.durationSeconds)
  if (perQueryMilli === 0)
    return `${pay} The licence allows ${jobs} for ${duration}. This asset releases aggregates only, so queries spend no ε.`
  const terms = `The licence allows ${jobs} and ${formatEpsilon(q.epsilonBudgetMilli)} for ${duration}.`
  if (perQueryMilli === null) return `${pay} ${terms}`
  const n = queriesAllowed(q.maxJobs, q.epsilonBudgetMilli, perQueryMilli)
  return (
    `${pay} ${terms} Each query spends ${formatEpsilon(perQueryMilli)} under this asset’s privacy policy, ` +
    `so the licence runs ${n === 0 ? 'no query at all' : `at most ${plural(n, 'query', 'queries')}`}.`
  )
}

/**
 * The approval a token price needs before the purchase (the market pulls the price with transferFrom),
 * in words; '' for the native currency. The flow asks for it only when the wallet's allowance is short.
 */
function approvalStep(q: QuoteTerms, amount: (v: bigint) => string): string {
  if (!q.approval) return ''
  return (
    ` Your wallet first asks you to approve the marketplace to take exactly ${amount(BigInt(q.approval.amount))} ` +
    '(never more), unless it already may, then to sign the purchase.'
  )
}
