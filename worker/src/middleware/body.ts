// Small JSON bodies with a hard size limit: the declared Content-Length is refused before anything is
// read, and the bytes that did arrive are counted (a chunked body declares nothing). A body in another
// media type (a form, a file, curl -d's urlencoded default) is refused before it is read at all.
import { ApiError } from '../errors'

type Req = { header(name: string): string | undefined; text(): Promise<string> }

/** application/json or a structured +json type (RFC 6839), with or without parameters. */
const JSON_TYPE = /^application\/([a-z0-9.!#$&^_-]+\+)?json$/

/** 415 unless the request says its body is JSON. */
export function requireJson(req: Pick<Req, 'header'>): void {
  const type = (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase()
  if (!JSON_TYPE.test(type)) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      `send the body as JSON with Content-Type: application/json${type ? ` (not ${type.slice(0, 80)})` : ''}`,
    )
  }
}

/**
 * The request body as JSON: 415 unless it is declared JSON, 413 `request_too_large` over `maxBytes`, 400
 * `invalid` unless it parses. What the value must look like is the caller's schema.
 *
 * @example
 * const body = await readJson(c.req, 1024, { code: 'invalid_json', message: 'send { tokenId, offerId }' })
 */
export async function readJson(
  req: Req,
  maxBytes: number,
  invalid: { code: string; message: string },
): Promise<unknown> {
  requireJson(req)
  const text = await readCappedText(
    req,
    maxBytes,
    'request_too_large',
    `this request is at most ${maxBytes} bytes of JSON`,
  )
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError(400, invalid.code, invalid.message)
  }
}

/**
 * The request body as text, or 413 `code` when it is over `maxBytes`.
 *
 * @example
 * const text = await readCappedText(c.req, 2048, 'request_too_large', 'an upload intent is at most 2048 bytes')
 */
export async function readCappedText(req: Req, maxBytes: number, code: string, message: string): Promise<string> {
  if (Number(req.header('content-length') ?? 0) > maxBytes) throw new ApiError(413, code, message)
  const text = await req.text()
  if (new TextEncoder().encode(text).byteLength > maxBytes) throw new ApiError(413, code, message)
  return text
}

/**
 * `text` as a JSON object nested at most `maxDepth` levels, or 400 `code`. Bounded depth matters where
 * the value travels on (a Durable Object call serialises it, and overflows its stack on deep nesting).
 */
export function parseJsonObject(
  text: string,
  maxDepth: number,
  code: string,
  message: string,
): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new ApiError(400, code, message)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError(400, code, message)
  const pending: Array<[unknown, number]> = [[value, 1]]
  while (pending.length > 0) {
    const [v, depth] = pending.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth > maxDepth) throw new ApiError(400, code, `${message} (nested at most ${maxDepth} levels)`)
    for (const child of Object.values(v)) pending.push([child, depth + 1])
  }
  return value as Record<string, unknown>
}
