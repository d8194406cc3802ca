// Plain-language formatting shared by the storefront pages: amounts, hashes, times, ε and policies.
// Everything here runs on the server while rendering; nothing is shipped to the browser.

const NATIVE = '0x0000000000000000000000000000000000000000'

/** Wei (decimal string) as ETH with up to 6 decimals, exact (BigInt, never floating point). */
export function formatEth(wei: string): string {
  const v = BigInt(wei)
  const whole = v / 10n ** 18n
  const frac = (v % 10n ** 18n).toString().padStart(18, '0').slice(0, 6).replace(/0+$/, '')
  if (v > 0n && whole === 0n && !frac) return '< 0.000001 ETH'
  return `${whole}${frac ? `.${frac}` : ''} ETH`
}

/** An amount in a currency: ETH for the native currency, otherwise base units of the token contract. */
export function formatAmount(amount: string, currency: string): string {
  return currency.toLowerCase() === NATIVE ? formatEth(amount) : `${amount} units of token ${shortHex(currency)}`
}

/** ETH typed by a person ("0.01") as wei; undefined when it is not a non-negative decimal. */
export function ethToWei(value: string): string | undefined {
  const m = /^(\d{1,30})(?:[.,](\d{0,18}))?$/.exec(value.trim())
  if (!m) return undefined
  return (BigInt(m[1]) * 10n ** 18n + BigInt((m[2] ?? '').padEnd(18, '0') || '0')).toString()
}

export function weiToEthInput(wei: string): string {
  return formatEth(wei).replace(' ETH', '').replace('< ', '')
}

/** 0x1234…abcd — the full value stays in the title attribute and the copyable code element. */
export function shortHex(h: string, keep = 6): string {
  return h.length > keep * 2 + 4 ? `${h.slice(0, keep + 2)}…${h.slice(-keep)}` : h
}

export function formatTime(unixSeconds: number | null | undefined): string {
  if (unixSeconds == null) return 'unknown time'
  return new Date(unixSeconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
}

export function formatDuration(seconds: number): string {
  const days = seconds / 86_400
  if (days >= 1) return `${Number.isInteger(days) ? days : days.toFixed(1)} day${days === 1 ? '' : 's'}`
  const hours = seconds / 3600
  return hours >= 1 ? `${hours.toFixed(1)} hours` : `${Math.round(seconds / 60)} minutes`
}

export const formatEpsilon = (milli: number) => `ε ${(milli / 1000).toLocaleString('en', { maximumFractionDigits: 3 })}`

export function formatCount(n: number | null | undefined): string {
  return n == null ? 'unknown' : Math.round(n).toLocaleString('en')
}

export function formatBytes(n: number | null | undefined): string {
  if (n == null) return 'unknown'
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`
}

/** What the owner's privacy policy means for a buyer, in sentences. */
export function policyInWords(policy: Record<string, unknown> | null): string[] {
  if (!policy)
    return ['The privacy policy could not be loaded from IPFS right now; the enclave enforces it regardless.']
  const out: string[] = []
  if (policy.kind === 'aggregates-only' || policy.mode === 'aggregates-only') {
    const k = typeof policy.minGroupSize === 'number' ? policy.minGroupSize : 10
    out.push(`Only aggregates are released: every group in a result must contain at least ${k} rows.`)
    out.push(
      policy.allowMinMax
        ? 'Minimum and maximum are allowed.'
        : 'Minimum and maximum are not allowed, because they would reveal single rows.',
    )
  } else {
    const eps = typeof policy.epsilonPerQueryMilli === 'number' ? policy.epsilonPerQueryMilli : 1000
    out.push(
      'Results are protected by differential privacy: calibrated noise is added, so no single row can be inferred.',
    )
    out.push(
      `Each query costs ${formatEpsilon(eps)} from the licence's privacy budget; when the budget is spent, queries stop.`,
    )
  }
  const columns = (policy.columns ?? {}) as Record<string, { identifier?: boolean }>
  const ids = Object.entries(columns)
    .filter(([, c]) => c && c.identifier)
    .map(([n]) => n)
  if (ids.length) out.push(`These columns can never be selected, grouped or filtered: ${ids.join(', ')}.`)
  if (typeof policy.maxGroups === 'number') out.push(`A query returns at most ${policy.maxGroups} groups.`)
  out.push('Rows never leave the enclave; you receive computed results only.')
  return out
}

/** Purposes bitmask as the offer shows it (bit i = purpose i; names are not on chain yet). */
export function purposesInWords(mask: number): string {
  return mask === 0 ? 'none' : `purpose mask ${mask}`
}
