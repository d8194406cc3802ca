// Licence terms from the command line, for `offer create` and `publish --price` alike: read and checked
// before anything is signed or sent, so a bad --epsilon cannot surface only after an asset is minted.
import { parseEther } from 'ethers'
import type { NewOfferTerms } from '../../sdk/src/index'
import type { CommandContext } from './command'
import { CliError, EXIT } from './exit-codes'

export const offerOptions = {
  price: { type: 'string' },
  jobs: { type: 'string' },
  epsilon: { type: 'string' },
  days: { type: 'string' },
  seconds: { type: 'string' },
} as const

const TERM_FLAGS = ['jobs', 'epsilon', 'days', 'seconds'] as const

/**
 * Bounds: jobs as wide as IDataMarket.OfferTerms holds them (uint32); duration and ε far inside their
 * uint64 fields, at what no offer means (a century; ε beyond any privacy guarantee).
 */
const MAX_JOBS = 2 ** 32 - 1
const MAX_DAYS = 36_500
const MAX_EPSILON = 1_000_000

function numberFlag(ctx: CommandContext, name: string, fallback: number, min: number, max: number): number {
  const raw = ctx.flags[name]
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw new CliError(EXIT.usage, `--${name} must be a number from ${min} to ${max}`)
  return n
}

/**
 * The terms the flags describe: --price ETH (required when `required`, else no terms without it),
 * --jobs N (default 100), --epsilon E (default 10), --days D (default 30) or --seconds S.
 */
export function offerTerms(ctx: CommandContext, required: boolean): NewOfferTerms | undefined {
  const price = ctx.flags.price
  if (price === undefined) {
    if (required) throw new CliError(EXIT.usage, '--price ETH is required')
    const stray = TERM_FLAGS.find((f) => ctx.flags[f] !== undefined)
    if (stray) throw new CliError(EXIT.usage, `--${stray} is a term of the offer: give --price too`)
    return undefined
  }
  let priceWei: bigint
  try {
    priceWei = parseEther(String(price))
  } catch {
    throw new CliError(EXIT.usage, '--price is an amount of the native currency, e.g. 0.05')
  }
  if (priceWei < 0n || priceWei >= 1n << 128n) throw new CliError(EXIT.usage, '--price is out of range')
  if (ctx.flags.days !== undefined && ctx.flags.seconds !== undefined)
    throw new CliError(EXIT.usage, 'give --days or --seconds, not both')
  const durationSeconds =
    ctx.flags.seconds !== undefined
      ? Math.round(numberFlag(ctx, 'seconds', 0, 1, MAX_DAYS * 86400))
      : Math.round(numberFlag(ctx, 'days', 30, 1 / 86400, MAX_DAYS) * 86400)
  return {
    price: priceWei,
    durationSeconds,
    maxJobs: Math.round(numberFlag(ctx, 'jobs', 100, 1, MAX_JOBS)),
    epsilonBudgetMilli: Math.round(numberFlag(ctx, 'epsilon', 10, 0.001, MAX_EPSILON) * 1000),
  }
}
