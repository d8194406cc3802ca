// GET /api/health: one probe per component of the stack, each `ok` or an error with a reason.
import { Hono } from 'hono'
import type { AppEnv, Bindings } from '../env'
import { chainStatus } from '../services/chain'
import { enclaveStatus } from '../services/enclave'
import { withoutAddresses } from '../services/config'
import { ipfsStatus } from '../services/ipfs'

/** Milliseconds a component may take before health reports it as not answering. */
const PROBE_TIMEOUT_MS = 3_000

export type ComponentHealth<T> = ({ ok: true } & T) | { ok: false; reason: string }

async function probe<T extends object>(name: string, fn: () => Promise<T>): Promise<ComponentHealth<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${name} did not answer within ${PROBE_TIMEOUT_MS} ms`)),
      PROBE_TIMEOUT_MS,
    )
  })
  try {
    return { ok: true, ...(await Promise.race([fn(), timeout])) }
  } catch (err) {
    return { ok: false, reason: reasonOf(err) }
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A short, secret-free reason: the message only, never a stack, a request body or an internal address
 * (the report is public; a URL in a misconfigured setting could even carry credentials).
 */
function reasonOf(err: unknown): string {
  const message = err instanceof Error ? ((err as { shortMessage?: string }).shortMessage ?? err.message) : String(err)
  const reason = withoutAddresses(message.split('\n')[0]).slice(0, 300)
  if (reason) return reason
  // kubo-rpc-client's HTTPError for an answer that is not 2xx has no message of its own.
  const status = (err as { response?: { status?: unknown } })?.response?.status
  return typeof status === 'number' ? `answered HTTP ${status}` : `${(err as Error)?.name ?? 'error'} without a message`
}

async function d1Status(env: Bindings) {
  const row = await env.DB.prepare(
    'SELECT name, COUNT(*) OVER () AS applied FROM d1_migrations ORDER BY id DESC LIMIT 1',
  )
    .first<{ name: string; applied: number }>()
    .catch((err: unknown) => {
      throw new Error(/no such table/.test(String(err)) ? 'no migrations applied' : reasonOf(err))
    })
  if (!row) throw new Error('no migrations applied')
  return { migration: row.name, applied: row.applied }
}

export async function stackHealth(env: Bindings) {
  const [chain, ipfs, enclave, d1] = await Promise.all([
    probe('chain', () => chainStatus(env)),
    probe('ipfs', () => ipfsStatus(env)),
    probe('enclave', () => enclaveStatus(env)),
    probe('d1', () => d1Status(env)),
  ])
  const components = { chain, ipfs, enclave, d1 }
  return { ok: Object.values(components).every((c) => c.ok), components }
}

export const health = new Hono<AppEnv>().get('/', async (c) => {
  const report = await stackHealth(c.env)
  c.header('cache-control', 'no-store')
  return c.json(report, report.ok ? 200 : 503)
})
