// The only place that knows HTTP status codes: every failure leaves the worker as
// `{ error: { code, message } }` with a 4xx for caller mistakes and a bare 500 for our own.
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { TrieRouter } from 'hono/router/trie-router'
import { ConfigError, UnreachableError } from './services/config'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** A request mistake the caller can fix; `code` is machine-readable and stable. */
export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    /** Extra machine-readable facts for the body, e.g. the failing step or an existing token id. */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message)
  }
}

export function problem(
  c: Context,
  status: ContentfulStatusCode,
  code: string,
  message: string,
  fields: Record<string, unknown> = {},
) {
  return c.json({ error: { code, message, ...fields } }, status)
}

/** A sentence with its first letter up and a full stop. */
const endWith = (text: string) => {
  const t = text.trim().replace(/[.;]$/, '')
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}.`
}

/** Hono `onError`: translate known errors, log unknown ones once, never leak a stack trace. */
export function onError(err: Error, c: Context) {
  if (err instanceof ApiError) {
    // A refusal that names when to come back says so the HTTP way too (RFC 9110 §10.2.3).
    const retry = err.fields.retryAfterSeconds
    if (typeof retry === 'number') c.header('Retry-After', String(retry))
    return problem(c, err.status, err.code, err.message, err.fields)
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode
    return problem(c, status, status === 400 ? 'bad_request' : `http_${status}`, err.message || 'Request rejected')
  }
  if (err instanceof UnreachableError) {
    // Already logged with its address where it was raised (services/config.ts reaching). Its message names
    // the component and the system's reason with every address taken out — what /api/health shows too —
    // so the caller learns which part is down without learning where it runs.
    return problem(c, 503, 'service_unavailable', `${endWith(err.message)} Try again shortly.`)
  }
  if (err instanceof ConfigError) {
    console.error('configuration error', err.message)
    return problem(c, 503, 'service_unavailable', 'The marketplace is misconfigured; the operator has been told')
  }
  console.error('unhandled error', err)
  return problem(c, 500, 'internal', 'Internal error')
}

/**
 * Hono `notFound` for an app with these routes. A path that exists under other methods answers 405 with
 * `Allow` (RFC 9110 §15.5.6), or 204 with `Allow` to OPTIONS; only a path no route has is 404.
 */
export function unrouted(routes: readonly { method: string; path: string }[]) {
  const router = new TrieRouter<string>()
  const methods = new Set<string>()
  for (const r of routes) {
    if (r.method === 'ALL') continue // middleware: matches every method, answers none
    router.add(r.method, r.path, r.method)
    methods.add(r.method)
  }
  return (c: Context) => {
    const path = new URL(c.req.url).pathname
    const allowed = [...methods].filter((m) => router.match(m, path)[0].length > 0)
    if (allowed.length === 0) return problem(c, 404, 'not_found', `No route for ${c.req.method} ${path}`)
    // Hono answers HEAD with the GET route, and this answer is OPTIONS's.
    const allow = [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ')
    c.header('Allow', allow)
    if (c.req.method === 'OPTIONS') return c.body(null, 204)
    return problem(c, 405, 'method_not_allowed', `${path} takes ${allow}, not ${c.req.method}`)
  }
}

/**
 * A caller's bad value quoted in an error message, cut to a readable length: the message says what was
 * wrong without sending a 10 KB input back (or into the logs) whole.
 */
export function echo(value: unknown, max = 80): string {
  const text = JSON.stringify(value ?? '') ?? String(value)
  return text.length > max ? `${text.slice(0, max)}…` : text
}

/** What a mixed-case address with a wrong EIP-55 checksum is told (a typo to catch, not to encode). */
export const WRONG_CHECKSUM = 'has a wrong EIP-55 checksum (send it all lowercase or correctly mixed)'
