// Refusing a query the owners' policies forbid before anything is queued or charged: the enclave plans the
// query against the policies and schemas sealed at ingest (`POST /jobs/check`, side-effect free) and the
// worker answers 422 with the enclave's own reason. The enclave checks it all again when the job runs, so
// an enclave that cannot be asked now only delays the refusal to run time; it never lets a query through.
import { requireSetting } from '../services/config'
import { UpstreamError } from '../services/enclave'
import type { Bindings } from '../env'
import { ApiError } from '../errors'

/** What the enclave would charge: the query's ε and, for a job across assets, each part's. */
export interface QueryCheck {
  epsilonSpentMilli: number
  parts?: { licenceId: string; epsilonSpentMilli: number }[]
}

const REFUSALS = new Set(['query_rejected', 'policy_violation'])

/**
 * Asks the enclave whether it would run `query` for `request`. Throws ApiError 422 (query_rejected,
 * policy_violation), 409 (the enclave holds no such asset) or 503 (its build is not approved); returns
 * undefined when the enclave cannot answer now (unreachable, busy, or an older build without the check).
 */
export async function checkQueryWithEnclave(
  env: Bindings,
  request: unknown,
  query: string,
): Promise<QueryCheck | undefined> {
  const url = `${requireSetting(env, 'ENCLAVE_URL')}/jobs/check`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request, query }),
      signal: AbortSignal.timeout(10_000),
    })
  } catch (err) {
    console.warn('enclave query check unavailable; the enclave will check at run time', (err as Error).message)
    return undefined
  }
  if (res.ok) return (await res.json()) as QueryCheck
  const upstream = new UpstreamError('enclave', res.status, await res.text())
  if (REFUSALS.has(upstream.code)) throw new ApiError(422, upstream.code, upstream.message)
  if (upstream.code === 'unknown_asset')
    throw new ApiError(409, 'asset_not_in_enclave', `the enclave holds no key for this asset: ${upstream.message}`)
  if (upstream.code === 'invalid_input') throw new ApiError(400, 'invalid_job', upstream.message)
  // A retired build refuses every job at run time: queued, the job would only wait for its deadline while
  // holding a job of the licence's quota. Nothing is queued or charged; it may pass once an approved build runs.
  if (upstream.code === 'measurement_not_approved')
    throw new ApiError(
      503,
      'enclave_not_approved',
      `the marketplace's enclave build is not approved in EnclaveRegistry (${upstream.message}); no job was queued and nothing was charged — try again once the operator runs an approved build`,
      { retryAfterSeconds: 300 },
    )
  return undefined
}
