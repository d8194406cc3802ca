// The buyer dashboard's per-asset policy lookup (site/src/lib/asset-policy.ts): each licence's asset is
// read from the catalogue once, a few at a time, and an asset whose policy cannot be read is "unknown".
import { describe, expect, it } from 'vitest'
import { epsilonPerQueryByAsset } from '../../site/src/lib/asset-policy'
import type { RuntimeLocals } from '../../site/src/lib/api'

/** The worker's API binding, answering GET /api/assets/:id from `assets` (a policy per id). */
function catalogue(assets: Record<string, Record<string, unknown> | null | 'fails'>) {
  const asked: string[] = []
  let inFlight = 0
  let mostInFlight = 0
  const locals: RuntimeLocals = {
    runtime: {
      env: {
        API: {
          fetch: async (url: string) => {
            const id = decodeURIComponent(new URL(url).pathname.replace('/api/assets/', ''))
            asked.push(id)
            mostInFlight = Math.max(mostInFlight, ++inFlight)
            await new Promise((r) => setImmediate(r))
            inFlight--
            const a = assets[id]
            if (a === 'fails') throw new Error('the binding failed')
            if (a === undefined) return Response.json({ error: { code: 'asset_not_found' } }, { status: 404 })
            return Response.json({ tokenId: id, policy: a })
          },
        },
      },
    },
  }
  return { locals, asked, mostInFlight: () => mostInFlight }
}

describe('epsilonPerQueryByAsset', () => {
  it('gives 0 for aggregates-only, the per-query ε for DP, and null when the policy cannot be read', async () => {
    const c = catalogue({
      '1': { kind: 'aggregates-only', mode: 'aggregates-only', minGroupSize: 10 },
      '2': { kind: 'dp', mode: 'dp', epsilonPerQueryMilli: 250 },
      '3': null, // the declaration could not be fetched from IPFS
      '5': 'fails',
    })
    const perQuery = await epsilonPerQueryByAsset(c.locals, ['1', '2', '1', '3', '4', '5', '2'])
    expect(Object.fromEntries(perQuery)).toEqual({ '1': 0, '2': 250, '3': null, '4': null, '5': null })
    expect(c.asked.sort()).toEqual(['1', '2', '3', '4', '5'])
  })

  it('asks for at most 8 assets at once', async () => {
    const ids = Array.from({ length: 30 }, (_, i) => String(i))
    const c = catalogue(Object.fromEntries(ids.map((id) => [id, { kind: 'dp', mode: 'dp' }])))
    const perQuery = await epsilonPerQueryByAsset(c.locals, ids)
    expect(perQuery.size).toBe(30)
    expect([...perQuery.values()].every((v) => v === 1000)).toBe(true)
    expect(c.mostInFlight()).toBeLessThanOrEqual(8)
  })
})
