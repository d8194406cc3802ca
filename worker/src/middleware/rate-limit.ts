// Request limits per client and per account (DESIGN §6 "rate limits per account"), on Workers Rate
// Limiting (wrangler.toml [[ratelimits]]): a counter per key per period kept at each Cloudflare location,
// meant to stop floods, not to account exactly. Reads are not limited here (the cache and the catalogue's
// own bounds carry them); requests that change state, or reach the chain, the enclave or IPFS, are.
import type { MiddlewareHandler } from 'hono'
import type { AppEnv, Bindings } from '../env'
import { ApiError } from '../errors'

/** Seconds a refused client should wait (Retry-After): the limiters' period (wrangler.toml `period`). */
const RETRY_AFTER_S = 60
const READS = new Set(['GET', 'HEAD', 'OPTIONS'])

function refused(what: string): ApiError {
  return new ApiError(429, 'rate_limited', `too many requests ${what}; wait a minute and try again`, {
    retryAfterSeconds: RETRY_AFTER_S,
  })
}

/**
 * Requests that are not reads, per client address: the one Cloudflare's edge saw (`cf-connecting-ip`;
 * `wrangler dev` sets it too, so under `npm start` every local client shares 127.0.0.1's count). A request
 * with no address (handed to the app in-process) has nothing to count against; per-account limits remain.
 */
export const limitWrites: MiddlewareHandler<AppEnv> = async (c, next) => {
  const client = c.req.header('cf-connecting-ip')
  if (!READS.has(c.req.method) && client && c.env.WRITE_LIMITER) {
    const { success } = await c.env.WRITE_LIMITER.limit({ key: `ip:${client}` })
    if (!success) throw refused('from this address')
  }
  await next()
}

/** Compute jobs per buyer account (the signer of the JobRequest), wherever the requests come from. */
export async function limitJobs(env: Bindings, buyer: string): Promise<void> {
  if (!env.JOB_LIMITER) return
  const { success } = await env.JOB_LIMITER.limit({ key: `jobs:${buyer.toLowerCase()}` })
  if (!success) throw refused(`for account ${buyer}`)
}
