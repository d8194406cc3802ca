// Turns any failure of a wallet flow into one plain sentence for the page (never a stack trace) and, kept
// apart from it, the code support can ask for: an API refusal's code, a contract's custom error, a job's
// reason code. Messages the API wrote for people are kept as they are; wallet/error-line.ts shows both.
import { endSentence } from '../lib/format'
import { refusalInWords } from './contract-refusals'

export interface ErrorDescription {
  /** One plain-language sentence, with no developer code in it. */
  message: string
  /** The machine-readable code, e.g. "query_rejected" or "DataMarketOfferInactive(7, 1)", when there is one. */
  reference?: string
}

/** A failure already described elsewhere (the publish Web Worker), passed on exactly as it was described. */
export class DescribedError extends Error {
  override name = 'DescribedError'
  constructor(
    message: string,
    readonly reference?: string,
  ) {
    super(message)
  }
}

const codeOf = (code: unknown) => (code === undefined || code === null || code === '' ? undefined : String(code))

/**
 * @example explainError(new ApiRequestError(422, 'query_rejected', 'SELECT * would expose rows'))
 * // { message: 'SELECT * would expose rows', reference: 'query_rejected' }
 */
export function explainError(err: unknown): ErrorDescription {
  const e = err as {
    name?: string
    code?: string | number
    shortMessage?: string
    message?: string
    errorName?: string
    reference?: string
    job?: { status?: string; reason?: { message?: string } }
    info?: { error?: { code?: number } }
  }
  if (e?.name === 'DescribedError') return { message: e.message ?? '', reference: e.reference }
  if (e?.code === 'ACTION_REJECTED' || e?.code === 4001 || e?.info?.error?.code === 4001)
    return { message: 'You declined the request in your wallet; nothing was sent.' }
  if (e?.name === 'ApiRequestError')
    return {
      message: e.message?.split('\n')[0] || 'The marketplace refused the request.',
      reference: codeOf(e.code),
    }
  // The job ended without a result (e.g. the enclave rejected the query): the SDK says it cost nothing.
  if (e?.name === 'JobNotSucceededError') {
    const reason = e.job?.reason?.message
    return {
      message: reason
        ? `${endSentence(reason)} The job was not charged.`
        : `The job ${e.job?.status ?? 'ended'} without a result and was not charged.`,
      reference: codeOf(e.code),
    }
  }
  if (e?.name === 'TransactionRefusedError') {
    const words = refusalInWords(e.errorName)
    return {
      message: words ? `The transaction was refused: ${words}.` : 'The contract refused the transaction.',
      reference: e.shortMessage,
    }
  }
  if (e?.code === 'INSUFFICIENT_FUNDS' || e?.name === 'InsufficientFundsError')
    return { message: 'The wallet does not hold enough to pay for this and its gas.' }
  if (e?.code === 'NETWORK_ERROR' || e?.name === 'TypeError')
    return {
      message: `The network request failed: ${e.shortMessage ?? e.message}. Check that the marketplace is running.`,
    }
  const text = e?.shortMessage ?? e?.message ?? String(err)
  return { message: text.split('\n')[0] }
}
