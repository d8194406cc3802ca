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
