// An offer's terms as people type them — in the publish wizard and in the owner's panel on the asset page
// (R9, R66): price in ETH, licence length in days, jobs and ε budget per licence; checked before anything
// is signed, since an offer the contract or the enclave would refuse must never be sent.
import type { NewOfferTerms } from '../../../sdk/src/index'

/** A mistake in a form, in words that name the field as its label does. */
export class FormError extends Error {
  override name = 'FormError'
  /** The form control's name, so the page can point at it. */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

const MAX_UINT32 = 2 ** 32 - 1

/** A form's fields read as text, numbers and ε in thousandths, each mistake a FormError naming the field. */
export function fields(form: HTMLFormElement) {
  const v = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? ''
  /** A number typed in a field: `min`/`max` inclusive; `whole` when the field counts things. */
  const num = (name: string, label: string, min: number, opts: { max?: number; whole?: boolean } = {}) => {
    const raw = v(name)
    const n = Number(raw)
    if (raw === '' || !Number.isFinite(n)) throw new FormError(`${label} must be a number.`, name)
    if (opts.whole && !Number.isInteger(n)) throw new FormError(`${label} must be a whole number.`, name)
    if (n < min) throw new FormError(`${label} must be ${min} or more.`, name)
    if (opts.max !== undefined && n > opts.max) throw new FormError(`${label} must be ${opts.max} or less.`, name)
    return n
  }
  /** ε in thousandths, as the policy and the offer hold it. */
  const milli = (name: string, label: string, max?: number) => {
    const n = num(name, label, 0.001, { max })
    if (Math.abs(n * 1000 - Math.round(n * 1000)) > 1e-6)
      throw new FormError(`${label} can have at most 3 decimals.`, name)
    return Math.round(n * 1000)
  }
  return { v, num, milli }
}

/**
 * The offer in `form` (fields price, durationDays, maxJobs, epsilonBudget), or null when no price is given.
 * `perQueryMilli`: the ε one query spends on a differentially private asset (null otherwise): a smaller
 * budget would sell a licence that can never run a query.
 */
export function readOffer(form: HTMLFormElement, perQueryMilli: number | null): NewOfferTerms | null {
  const { v, num, milli } = fields(form)
  const price = v('price')
  if (price === '') return null
  const priceWei = parsePrice(price)
  const durationDays = num('durationDays', 'Licence lasts, days', 1)
  const maxJobs = num('maxJobs', 'Jobs per licence', 1, { whole: true, max: MAX_UINT32 })
  const budgetMilli = milli('epsilonBudget', 'ε budget per licence')
  if (perQueryMilli !== null && perQueryMilli > budgetMilli)
    throw new FormError(
      `ε spent per query (${perQueryMilli / 1000}) is more than the ε budget per licence ` +
        `(${budgetMilli / 1000}): a buyer could never run a single query. Lower ε per query or raise the budget.`,
      'epsilonBudget',
    )
  return {
    price: priceWei,
    durationSeconds: Math.round(durationDays * 86_400),
    maxJobs,
    epsilonBudgetMilli: budgetMilli,
  }
}

/**
 * The price field as wei: a decimal amount of ETH with a dot, 0 or more, at most 18 decimals (uint128 on
 * chain). A comma is refused rather than guessed: "1,5" and "1,000" mean different things to different
 * readers, and a price is money.
 */
export function parsePrice(text: string): bigint {
  if (/^-/.test(text)) throw new FormError('Price must be 0 or more.', 'price')
  if (text.includes(','))
    throw new FormError(
      `Price “${text}”: write the amount with a dot for decimals and no separators (e.g. 1.5 or 1000).`,
      'price',
    )
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text)
  if (!m || (m[1] === '' && !m[2])) throw new FormError(`Price “${text}” is not an amount in ETH (e.g. 0.01).`, 'price')
  if ((m[2] ?? '').length > 18) throw new FormError('Price can have at most 18 decimals (1 wei).', 'price')
  const wei = BigInt(m[1] || '0') * 10n ** 18n + BigInt((m[2] ?? '').padEnd(18, '0') || '0')
  if (wei >= 2n ** 128n) throw new FormError('Price is too large.', 'price')
  return wei
}
