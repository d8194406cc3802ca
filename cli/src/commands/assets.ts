// `stillflow assets`: the signed-in owner's publications and the state of each (pending → minted | failed),
// and the assets the account owns now. An asset NFT can change hands, so the two lists differ: a
// publication whose asset was transferred says to whom, and an asset received from someone else is listed
// too (its offers are now this account's to set).
import type { ApiClient } from '../../../sdk/src/index'
import type { Command } from '../command'
import { api, asCliError, keyOptions, requireSession } from '../context'

interface Publication {
  id: string
  status: string
  step: string
  tokenId?: string
  contentHash: string
  txHash?: string
  error?: { code: string; message: string }
  createdAt: string
  /** Added here: the asset's current owner when it is no longer this account, or that it was revoked. */
  now?: { owner?: string; revoked?: boolean }
  /** Added here: the asset's title, once it is minted and listed. */
  title?: string | null
}

interface OwnedAsset {
  tokenId: string
  title: string | null
  frozen: boolean
}

/** Pages of the catalogue's owner filter read at most (50 assets a page). */
const MAX_PAGES = 10

async function ownedBy(client: ApiClient, owner: string): Promise<OwnedAsset[]> {
  const owned: OwnedAsset[] = []
  let cursor: string | null = null
  for (let page = 0; page < MAX_PAGES; page++) {
    const q: string = `/assets?owner=${owner}&limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`
    const res: { items: OwnedAsset[]; next: string | null } = await client.request(q)
    owned.push(...res.items.map((a) => ({ tokenId: a.tokenId, title: a.title, frozen: a.frozen })))
    cursor = res.next
    if (!cursor) break
  }
  return owned
}

export const assets: Command = {
  name: 'assets',
  summary: 'list the assets you published and the assets you own, with their status',
  usage: 'stillflow assets [--json] [--api URL]',
  options: { api: keyOptions.api },
  async run(ctx) {
    const session = requireSession(ctx)
    const me = session.address.toLowerCase()
    let list: Publication[]
    let owned: OwnedAsset[]
    try {
      const client = api(ctx, session)
      list = (await client.request<{ publications: Publication[] }>('/publications')).publications
      owned = await ownedBy(client, me)
      const mine = new Map(owned.map((a) => [a.tokenId, a]))
      for (const p of list) {
        if (p.status !== 'minted' || !p.tokenId) continue
        const listed = mine.get(p.tokenId)
        if (listed) {
          p.title = listed.title
          continue
        }
        // A minted publication not among the owned assets was transferred or revoked: say which.
        const a = await client.request<{ owner: string; revoked: boolean; title: string | null }>(
          `/assets/${p.tokenId}`,
        )
        p.title = a.title
        p.now = a.revoked ? { revoked: true } : a.owner.toLowerCase() !== me ? { owner: a.owner } : undefined
      }
    } catch (err) {
      asCliError(err)
    }
    const published = new Set(list.map((p) => p.tokenId))
    const received = owned.filter((a) => !published.has(a.tokenId))
    if (!ctx.json) {
      if (list.length === 0) ctx.stdout.write('no publications yet\n')
      for (const p of list) {
        const what =
          p.status === 'minted'
            ? `minted  asset #${p.tokenId}${p.title ? `  "${p.title}"` : ''}  tx ${p.txHash}${p.now?.revoked ? '  (revoked)' : p.now?.owner ? `  (transferred: now owned by ${p.now.owner})` : ''}`
            : p.status === 'failed'
              ? `failed at ${p.step}: ${p.error?.message}`
              : `${p.status} (${p.step})`
        ctx.stdout.write(`${p.createdAt}  ${p.contentHash.slice(0, 12)}…  ${what}\n`)
      }
      if (received.length) {
        ctx.stdout.write('owned, not published by you (received):\n')
        for (const a of received)
          ctx.stdout.write(`  asset #${a.tokenId}  ${a.title ?? '(untitled)'}${a.frozen ? '  (frozen)' : ''}\n`)
      }
    }
    return { publications: list, owned }
  },
}
