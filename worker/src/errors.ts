// The only place that knows HTTP status codes: every failure leaves the worker as
// `{ error: { code, message } }` with a 4xx for caller mistakes and a bare 500 for our own.
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'

/** A request mistake the caller can fix; `code` is machine-readable and stable. */
export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export function problem(c: Context, status: ContentfulStatusCode, code: string, message: string) {
  return c.json({ error: { code, message } }, status)
}

/** Hono `onError`: translate known errors, log unknown ones once, never leak a stack trace. */
export function onError(err: Error, c: Context) {
  if (err instanceof ApiError) return problem(c, err.status, err.code, err.message)
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode
    return problem(c, status, status === 400 ? 'bad_request' : `http_${status}`, err.message || 'Request rejected')
  }
  console.error('unhandled error', err)
  return problem(c, 500, 'internal', 'Internal error')
}

export function notFound(c: Context) {
  return problem(c, 404, 'not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname}`)
}
