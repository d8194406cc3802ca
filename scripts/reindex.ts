// `npm run reindex`: drops the worker's chain mirror and rebuilds it from the deployment block (R46),
// through the running worker's admin endpoint, then waits until the index has caught up again.
//
//   npm run reindex -- [--api http://127.0.0.1:8787/api] [--token <ADMIN_TOKEN>]
// The token defaults to $ADMIN_TOKEN, then to ADMIN_TOKEN in .data/worker.env (what `npm start` writes).
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const args = process.argv.slice(2)
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const api = (opt('api') ?? 'http://127.0.0.1:8787/api').replace(/\/+$/, '')

function tokenFromEnvFile(): string | undefined {
  const file = join(process.cwd(), '.data', 'worker.env')
  if (!existsSync(file)) return undefined
  return /^ADMIN_TOKEN=(.*)$/m.exec(readFileSync(file, 'utf8'))?.[1]?.trim()
}

const token = opt('token') ?? process.env.ADMIN_TOKEN ?? tokenFromEnvFile()
if (!token) {
  process.stderr.write('reindex: no admin token (use --token, $ADMIN_TOKEN, or ADMIN_TOKEN in .data/worker.env)\n')
  process.exit(2)
}

try {
  const res = await fetch(`${api}/audit/reindex`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  const body = (await res.json()) as {
    indexedBlock?: number
    head?: number
    events?: number
    caughtUp?: boolean
    error?: { code: string; message: string }
  }
  if (!res.ok) {
    process.stderr.write(`reindex: ${res.status} ${body.error?.code}: ${body.error?.message}\n`)
    process.exit(1)
  }
  process.stdout.write(`reindex: mirror dropped; ${body.events} events re-indexed up to block ${body.indexedBlock}\n`)
  // One request indexes a bounded number of ranges; the cron (or `npm start`'s trigger) does the rest.
  for (let i = 0; !body.caughtUp && i < 600; i++) {
    await new Promise((r) => setTimeout(r, 1000))
    const root = (await (await fetch(`${api}/audit/root`)).json()) as { toBlock: number }
    if (root.toBlock >= (body.head ?? 0)) break
  }
  const root = (await (await fetch(`${api}/audit/root`)).json()) as {
    toBlock: number
    leafCount: number
    merkleRoot: string
  }
  process.stdout.write(
    `reindex: done; ${root.leafCount} events up to block ${root.toBlock}, ledger root ${root.merkleRoot}\n`,
  )
} catch (err) {
  process.stderr.write(
    `reindex: the worker at ${api} is not reachable (${(err as Error).message}); is \`npm start\` running?\n`,
  )
  process.exit(2)
}
