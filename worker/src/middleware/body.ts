// Small JSON bodies with a hard size limit: the declared Content-Length is refused before anything is
// read, and the bytes that did arrive are counted (a chunked body declares nothing). A body in another
// media type (a form, a file, curl -d's urlencoded default) is refused before it is read at all.
import { ApiError } from '../errors'

type Req = { header(name: string): string | undefined; text(): Promise<string> }
type Problem = { code: string; message: string }

/** application/json or a structured +json type (RFC 6839), with or without parameters. */
const JSON_TYPE = /^application\/([a-z0-9.!#$&^_-]+\+)?json$/

/** Whether the request declares a JSON body (any type `readJson` accepts). */
export const isJson = (req: Pick<Req, 'header'>): boolean => JSON_TYPE.test(mediaType(req))

/** The request's media type without parameters, lowercase ('' when it names none). */
export const mediaType = (req: Pick<Req, 'header'>): string =>
  (req.header('content-type') ?? '').split(';')[0].trim().toLowerCase()

/**
 * The request body as JSON: 415 unless it is declared JSON, 413 (`request_too_large`, or the route's own
 * `tooLarge`) over `maxBytes`, 400 `invalid` unless it parses. What the value must look like is the
 * caller's schema.
 *
 * @example
 * const body = await readJson(c.req, 1024, { code: 'invalid_json', message: 'send { tokenId, offerId }' })
 */
export async function readJson(
  req: Req,
  maxBytes: number,
  invalid: Problem,
  tooLarge: Problem = { code: 'request_too_large', message: `this request is at most ${maxBytes} bytes of JSON` },
): Promise<unknown> {
  const type = mediaType(req)
  if (!isJson(req)) {
    throw new ApiError(
      415,
      'unsupported_media_type',
      `send the body as JSON with Content-Type: application/json${type ? ` (not ${type.slice(0, 80)})` : ''}`,
    )
  }
  if (Number(req.header('content-length') ?? 0) > maxBytes) throw new ApiError(413, tooLarge.code, tooLarge.message)
  const text = await req.text()
  if (new TextEncoder().encode(text).byteLength > maxBytes) throw new ApiError(413, tooLarge.code, tooLarge.message)
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError(400, invalid.code, invalid.message)
  }
}

/**
 * `value` as a JSON object nested at most `maxDepth` levels, or 400 `invalid`. Bounded depth matters where
 * the value travels on (a Durable Object call serialises it, and overflows its stack on deep nesting).
 */
export function boundedObject(value: unknown, maxDepth: number, invalid: Problem): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ApiError(400, invalid.code, invalid.message)
  const pending: Array<[unknown, number]> = [[value, 1]]
  while (pending.length > 0) {
    const [v, depth] = pending.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (depth > maxDepth)
      throw new ApiError(400, invalid.code, `${invalid.message} (nested at most ${maxDepth} levels)`)
    for (const child of Object.values(v)) pending.push([child, depth + 1])
  }
  return value as Record<string, unknown>
}
