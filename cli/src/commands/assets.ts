// `stillflow assets`: the signed-in owner's publications and the state of each (pending → minted | failed).
import type { Command } from '../command'
import { api, asCliError, keyOptions, readSession } from '../context'
import { CliError, EXIT } from '../exit-codes'

interface Publication {
  id: string
  status: string
  step: string
  tokenId?: string
  contentHash: string
  txHash?: string
  error?: { code: string; message: string }
  createdAt: string
}

export const assets: Command = {
  name: 'assets',
  summary: 'list the assets you published and their status',
  usage: 'stillflow assets [--json] [--api URL]',
  options: { api: keyOptions.api },
  async run(ctx) {
    if (!readSession(ctx)) throw new CliError(EXIT.auth, 'not signed in: run stillflow login')
    let list: Publication[]
    try {
      list = (await api(ctx, true).request<{ publications: Publication[] }>('/publications')).publications
    } catch (err) {
      asCliError(err)
    }
    if (!ctx.json) {
      if (list.length === 0) ctx.stdout.write('no publications yet\n')
      for (const p of list) {
        const what =
          p.status === 'minted'
            ? `asset #${p.tokenId}  tx ${p.txHash}`
            : p.status === 'failed'
              ? `failed at ${p.step}: ${p.error?.message}`
              : `${p.status} (${p.step})`
        ctx.stdout.write(`${p.createdAt}  ${p.contentHash.slice(0, 12)}…  ${what}\n`)
      }
    }
    return { publications: list }
  },
}
