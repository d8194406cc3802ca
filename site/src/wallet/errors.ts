// Turns any failure of a wallet flow into one plain sentence for the page (never a stack trace): API
// refusals keep their code, contract refusals their custom error, a declined signature says so.

export function describeError(err: unknown): string {
  const e = err as {
    name?: string
    code?: string | number
    shortMessage?: string
    message?: string
    status?: number
    errorName?: string
    info?: { error?: { code?: number } }
  }
  if (e?.code === 'ACTION_REJECTED' || e?.code === 4001 || e?.info?.error?.code === 4001)
    return 'You declined the request in your wallet; nothing was sent.'
  if (e?.name === 'ApiRequestError') return `${e.message?.split('\n')[0]} (${e.code}, HTTP ${e.status})`
  // The job ended without a result (e.g. the enclave rejected the query): the SDK says it cost nothing.
  if (e?.name === 'JobNotSucceededError') return `${e.shortMessage} (${e.code}); the job was not charged.`
  if (e?.name === 'TransactionRefusedError') return `The contract refused the transaction: ${e.shortMessage}`
  if (e?.code === 'INSUFFICIENT_FUNDS') return 'The wallet does not hold enough to pay for this and its gas.'
  if (e?.code === 'NETWORK_ERROR' || e?.name === 'TypeError')
    return `The network request failed: ${e.shortMessage ?? e.message}. Check that the marketplace is running.`
  const text = e?.shortMessage ?? e?.message ?? String(err)
  return text.split('\n')[0]
}
