// Server side of both dashboards: which account the page is about (?address=), validated, and the API
// answer for it turned into either data or a plain message — never a stack trace.
import { apiFetch, type RuntimeLocals } from '../lib/api'

export type Loaded<T> =
  | { kind: 'none' }
  | { kind: 'invalid'; typed: string; message: string }
  | { kind: 'ok'; address: string; data: T }
  | { kind: 'empty'; address: string; message: string }
  | { kind: 'failed'; address: string; message: string }

export async function loadForAddress<T>(
  locals: RuntimeLocals,
  url: URL,
  path: (a: string) => string,
  emptyCode: string,
): Promise<Loaded<T>> {
  const raw = url.searchParams.get('address')?.trim() ?? ''
  if (!raw) return { kind: 'none' }
  if (!/^0x[0-9a-fA-F]{40}$/.test(raw))
    return {
      kind: 'invalid',
      typed: raw.slice(0, 200),
      message: `“${raw.slice(0, 60)}” is not an account address (0x followed by 40 hex digits).`,
    }
  const address = raw.toLowerCase()
  try {
    const res = await apiFetch(locals, path(address))
    const body = (await res.json().catch(() => null)) as (T & { error?: { code?: string; message?: string } }) | null
    if (res.ok && body) return { kind: 'ok', address, data: body }
    if (res.status === 404 && body?.error?.code === emptyCode)
      return { kind: 'empty', address, message: body.error.message ?? '' }
    return { kind: 'failed', address, message: body?.error?.message ?? `The API answered ${res.status}.` }
  } catch (err) {
    return { kind: 'failed', address, message: err instanceof Error ? err.message : String(err) }
  }
}
