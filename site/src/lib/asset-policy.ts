// The ε one query spends on each of several assets, for server-rendered pages whose report names assets
// by id only (the buyer dashboard's licences): read from the catalogue a few assets at a time, so that a
// licence on an aggregates-only asset is not shown an ε budget nothing ever spends.
import { apiFetch, type RuntimeLocals } from './api'
import { epsilonPerQueryMilli } from './format'

/** Catalogue reads in flight at once: a long licence list must not fan out into hundreds of requests. */
const AT_ONCE = 8

/**
 * tokenId → the ε one query spends under that asset's policy (lib/format epsilonPerQueryMilli: 0 for
 * aggregates-only), or null when the policy cannot be read right now.
 * @example const perQuery = await epsilonPerQueryByAsset(Astro.locals, licences.map((l) => l.tokenId))
 */
export async function epsilonPerQueryByAsset(
  locals: RuntimeLocals,
  tokenIds: Iterable<string>,
): Promise<Map<string, number | null>> {
  const ids = [...new Set(tokenIds)]
  const out = new Map<string, number | null>()
  for (let i = 0; i < ids.length; i += AT_ONCE)
    await Promise.all(ids.slice(i, i + AT_ONCE).map(async (id) => out.set(id, await perQueryOf(locals, id))))
  return out
}

async function perQueryOf(locals: RuntimeLocals, tokenId: string): Promise<number | null> {
  try {
    const res = await apiFetch(locals, `/api/assets/${encodeURIComponent(tokenId)}`)
    if (!res.ok) {
      await res.body?.cancel()
      return null
    }
    return epsilonPerQueryMilli(((await res.json()) as { policy?: Record<string, unknown> | null }).policy)
  } catch {
    // Unknown is a safe answer: the page then shows the licence's ε as recorded on chain, as it always did;
    // the catalogue logs its own failures (an unreadable declaration), so nothing is lost here.
    return null
  }
}
