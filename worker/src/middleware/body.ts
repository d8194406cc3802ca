// Small JSON bodies with a hard size limit: the declared Content-Length is refused before anything is
// read, and the bytes that did arrive are counted (a chunked body declares nothing).
import { ApiError } from '../errors'

/**
 * The request body as text, or 413 `code` when it is over `maxBytes`.
 *
 * @example
 * const text = await readCappedText(c.req, 2048, 'request_too_large', 'an upload intent is at most 2048 bytes')
 */
export async function readCappedText(
  req: { header(name: string): string | undefined; text(): Promise<string> },
  maxBytes: number,
  code: string,
  message: string,
): Promise<string> {
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
