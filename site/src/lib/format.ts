// Plain-language formatting shared by the storefront pages and their islands: amounts, hashes, times,
// durations, ε and policies. No dependencies, so the islands (buy and run, publish) can import it and
// every amount, duration and date reads the same on the server and in the browser.

const NATIVE = '0x0000000000000000000000000000000000000000'

/**
 * Wei as ETH, exact: every significant digit of the 18 decimals, trailing zeros trimmed (BigInt, never
 * floating point), so an owner's share and the fee always add up to the price shown.
 * @example formatEth('1462500000000000') // '0.0014625 ETH'
 */
export function formatEth(wei: string | bigint): string {
  return `${formatUnits18(BigInt(wei))} ETH`
}

function formatUnits18(v: bigint): string {
  const sign = v < 0n ? '-' : ''
  const a = v < 0n ? -v : v
  const frac = (a % 10n ** 18n).toString().padStart(18, '0').replace(/0+$/, '')
  return `${sign}${a / 10n ** 18n}${frac ? `.${frac}` : ''}`
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
  return formatUnits18(BigInt(wei))
}

/** 0x1234…abcd — the full value stays in the title attribute and the copyable code element. */
export function shortHex(h: string, keep = 6): string {
  return h.length > keep * 2 + 4 ? `${h.slice(0, keep + 2)}…${h.slice(-keep)}` : h
}

/**
 * A supervisor's freeze reason in plain words, or null when none was given. The asset API gives the
 * bytes32 reason as text when it is a short string and as hex otherwise; a freeze event's raw
 * `reasonCode` (0x and 64 hex digits) is read here the same way: text up to its zero padding, when that
 * text is valid UTF-8 with no control characters.
 * @example freezeReasonInWords('court-order-2026-117') // 'reason: “court-order-2026-117”'
 * @example freezeReasonInWords('0x' + 'ab'.repeat(32)) // 'reason code 0xabab…abab' (in full)
 */
export function freezeReasonInWords(reason: string | null | undefined): string | null {
  if (!reason || /^0x0{64}$/i.test(reason)) return null
  const text = /^0x[0-9a-fA-F]{64}$/.test(reason) ? bytes32Text(reason) : reason
  return text === null ? `reason code ${reason}` : `reason: “${text}”`
}

/** A zero-padded bytes32 string's text (as ethers' decodeBytes32String), or null when it is none. */
function bytes32Text(hex: string): string | null {
  const bytes = Uint8Array.from(hex.slice(2).match(/../g)!, (b) => parseInt(b, 16))
  const end = bytes.indexOf(0)
  if (end < 1 || bytes.subarray(end).some((b) => b !== 0)) return null
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end))
    return text.trim() && !/\p{C}/u.test(text) ? text : null
  } catch {
    // Not UTF-8: a code, not a text.
    return null
  }
}

export function formatTime(unixSeconds: number | null | undefined): string {
  if (unixSeconds == null) return 'unknown time'
  return new Date(unixSeconds * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC')
}

/** A message someone wrote without a closing full stop, ended, so that another sentence can follow it. */
export function endSentence(text: string): string {
  const t = text.trim()
  return /[.!?…]$/.test(t) ? t : `${t}.`
}

/** "1 job", "2 jobs": a count with its noun, singular only for exactly one. */
export function plural(n: number | bigint, noun: string, nouns = `${noun}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 || n === 1n ? noun : nouns}`
}

const UNITS: Array<[number, string]> = [
  [86_400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
]

/**
 * A length of time in words, exact to the second in its two largest units, e.g. 3600 → "1 hour",
 * 90 000 → "1 day 1 hour", 2 592 000 → "30 days". The one duration format of the site.
 */
export function formatDuration(seconds: number): string {
  let rest = Math.max(0, Math.round(seconds))
  if (rest === 0) return '0 seconds'
  const parts: string[] = []
  for (const [size, unit] of UNITS) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0) parts.push(plural(n, unit))
    else if (parts.length) break
    if (parts.length === 2) break
  }
  return parts.join(' ')
}

export const formatEpsilon = (milli: number) => `ε ${(milli / 1000).toLocaleString('en', { maximumFractionDigits: 3 })}`

const aggregatesOnly = (policy: Record<string, unknown>) =>
  policy.kind === 'aggregates-only' || policy.mode === 'aggregates-only'

/**
 * The ε one query spends under an asset's policy, in thousandths: a DP policy's own (the enclave's
 * default when it names none), 0 under aggregates-only — it adds no noise, so it spends no ε — and null
 * when the policy is not known (not loaded from IPFS).
 */
export function epsilonPerQueryMilli(policy: Record<string, unknown> | null | undefined): number | null {
  if (!policy) return null
  if (aggregatesOnly(policy)) return 0
  // The enclave's default when a DP policy names no per-query ε (tee-sim/src/policy.ts).
  return typeof policy.epsilonPerQueryMilli === 'number' ? policy.epsilonPerQueryMilli : 1000
}

/** What an aggregates-only asset's ε budget is shown as: the number on chain would mean nothing. */
export const NO_EPSILON = 'no ε (aggregates only)'

/**
 * An offer's or licence's ε budget, or what is left of it, under the asset's policy (`perQueryMilli` as
 * epsilonPerQueryMilli gives it): "ε 10", or "no ε (aggregates only)" when queries spend none.
 */
export function formatBudget(milli: number, perQueryMilli: number | null): string {
  return perQueryMilli === 0 ? NO_EPSILON : formatEpsilon(milli)
}

/** What a licence has left, in a phrase: "2 jobs and ε 1.5 left", or "2 jobs left, no ε (aggregates only)". */
export function licenceLeft(jobsLeft: number, epsilonLeftMilli: number, perQueryMilli: number | null): string {
  return perQueryMilli === 0
    ? `${plural(jobsLeft, 'job')} left, ${NO_EPSILON}`
    : `${plural(jobsLeft, 'job')} and ${formatEpsilon(epsilonLeftMilli)} left`
}

/** How many queries a licence can run: its jobs, or fewer when its ε budget runs out first. */
export function queriesAllowed(maxJobs: number, budgetMilli: number, perQueryMilli: number | null): number {
  return perQueryMilli && perQueryMilli > 0 ? Math.min(maxJobs, Math.floor(budgetMilli / perQueryMilli)) : maxJobs
}

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
  if (aggregatesOnly(policy)) {
    const k = typeof policy.minGroupSize === 'number' ? policy.minGroupSize : 10
    out.push(`Only aggregates are released: every group in a result must contain at least ${k} rows.`)
    out.push(
      policy.allowMinMax
        ? 'Minimum and maximum are allowed.'
        : 'Minimum and maximum are not allowed, because they would reveal single rows.',
    )
  } else {
    const eps = epsilonPerQueryMilli(policy) ?? 1000
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
