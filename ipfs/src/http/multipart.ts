// A streaming multipart/form-data reader (RFC 7578 over RFC 2046 §5.1): parts are handed out as
// byte streams while the body is still arriving, so an upload is never held in memory whole.

import { InvalidArgumentError } from '../errors'

const CRLF = Buffer.from('\r\n')
const EMPTY = Buffer.alloc(0)
const HEADER_END = Buffer.from('\r\n\r\n')
/** Part headers larger than this are not from a real client. */
const MAX_HEADER_BYTES = 16 * 1024

export interface Part {
  /** The form field name, e.g. `file` or `file-1` (kubo-rpc-client's naming). */
  name: string
  /** The decoded filename, '' when absent. */
  filename: string
  contentType: string
  /** The part's bytes. Must be read to the end (or abandoned) before the next part is requested. */
  body: AsyncIterable<Uint8Array>
}

/** The boundary of a `multipart/form-data` Content-Type, or an `InvalidArgumentError`. */
export function boundaryOf(contentType: string | undefined): string {
  const [type, ...params] = (contentType ?? '').split(';')
  if (type.trim().toLowerCase() !== 'multipart/form-data') {
    throw new InvalidArgumentError(`expected a multipart/form-data body, got "${type.trim() || 'none'}"`)
  }
  for (const param of params) {
    const eq = param.indexOf('=')
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue
    const boundary = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, '$1')
    // RFC 2046 §5.1.1: 1 to 70 characters.
    if (boundary.length >= 1 && boundary.length <= 70) return boundary
  }
  throw new InvalidArgumentError('multipart/form-data body without a valid boundary')
}

/**
 * Reads the parts of a multipart body in order.
 *
 * @example
 * for await (const part of readMultipart(req, boundaryOf(req.headers['content-type']))) {
 *   for await (const bytes of part.body) write(bytes)
 * }
 */
export async function* readMultipart(source: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<Part> {
  const input = new ByteQueue(source)
  // Every delimiter is CRLF "--" boundary (RFC 2046 §5.1.1); the CRLF before the first one is
  // optional, so the reader pretends it was sent and treats whatever precedes it as preamble.
  input.unshift(CRLF)
  const delimiter = Buffer.from(`\r\n--${boundary}`)

  await input.skipUntil(delimiter) // the preamble
  for (;;) {
    // After a delimiter: "--" closes the body, otherwise optional whitespace then CRLF.
    const after = await input.take(2)
    if (after.equals(Buffer.from('--'))) return
    input.unshift(after)
    const headerBytes = await input.takeUntil(HEADER_END, MAX_HEADER_BYTES)
    const part = parseHeaders(headerBytes.toString('latin1'))
    input.inBody = true
    yield { ...part, body: input.until(delimiter) }
    // The consumer may stop early (e.g. a part it refuses): skip the rest of the part.
    if (input.inBody) await input.skipUntil(delimiter)
  }
}

function parseHeaders(text: string): Omit<Part, 'body'> {
  // The text still starts with the CRLF (or transport padding) that ends the delimiter line.
  const lines = text.replace(/^[ \t]*\r\n/, '').split('\r\n')
  let name = ''
  let filename = ''
  let contentType = 'application/octet-stream'
  let disposition = false
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon <= 0) throw new InvalidArgumentError('malformed multipart part header')
    const key = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (key === 'content-type') contentType = value.toLowerCase()
    if (key === 'content-disposition') {
      disposition = true
      name = param(value, 'name') ?? ''
      filename = decodeFilename(param(value, 'filename') ?? '')
    }
  }
  if (!disposition) throw new InvalidArgumentError('multipart part without Content-Disposition')
  return { name, filename, contentType }
}

function param(header: string, key: string): string | undefined {
  const match =
    new RegExp(`(?:^|;)\\s*${key}="([^"]*)"`, 'i').exec(header) ??
    new RegExp(`(?:^|;)\\s*${key}=([^;\\s]*)`, 'i').exec(header)
  return match?.[1]
}

// kubo-rpc-client percent-encodes filenames and Kubo decodes them; a bare name passes through.
function decodeFilename(raw: string): string {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

/** A pull-based byte queue over an async source, with delimiter search. */
class ByteQueue {
  private buf: Buffer = Buffer.alloc(0)
  /** True from handing out a part body until its closing delimiter has been consumed. */
  inBody = false
  private readonly it: AsyncIterator<Uint8Array>

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]()
  }

  unshift(bytes: Buffer): void {
    this.buf = this.buf.length === 0 ? bytes : Buffer.concat([bytes, this.buf])
  }

  /** The next chunk of the source as a Buffer (no copy), or undefined at its end. */
  private async next(): Promise<Buffer | undefined> {
    const next = await this.it.next()
    if (next.done) return undefined
    return Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength)
  }

  /** Appends one more chunk to the buffer; false at the end of the source. */
  private async fill(): Promise<boolean> {
    const chunk = await this.next()
    if (!chunk) return false
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    return true
  }

  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) if (!(await this.fill())) throw truncated()
    const out = this.buf.subarray(0, n)
    this.buf = this.buf.subarray(n)
    return out
  }

  async takeUntil(marker: Buffer, limit: number): Promise<Buffer> {
    for (;;) {
      const at = this.buf.indexOf(marker)
      if (at > limit) throw new InvalidArgumentError('multipart part headers are too large')
      if (at >= 0) {
        const out = this.buf.subarray(0, at)
        this.buf = this.buf.subarray(at + marker.length)
        return out
      }
      if (this.buf.length > limit) throw new InvalidArgumentError('multipart part headers are too large')
      if (!(await this.fill())) throw truncated()
    }
  }

  async skipUntil(marker: Buffer): Promise<void> {
    for await (const chunk of this.until(marker)) void chunk
  }

  /**
   * Yields bytes up to `marker` and consumes the marker; the end of input before it is an error.
   * Body chunks are passed on whole, as views, one yield per chunk: each is held back until the
   * next arrives, to rule out a marker split across the two. Only that seam (twice the marker's
   * length) is copied, and chunks shorter than the marker are joined.
   */
  async *until(marker: Buffer): AsyncGenerator<Buffer> {
    const keep = marker.length - 1
    // `buf` holds the bytes not yet handed out (never a whole marker) whenever this generator is
    // suspended, so a consumer that stops early leaves them for `skipUntil`.
    let at = this.buf.indexOf(marker)
    for (;;) {
      if (at >= 0) {
        const out = this.buf.subarray(0, at)
        this.buf = this.buf.subarray(at + marker.length)
        this.inBody = false
        if (out.length > 0) yield out
        return
      }
      const chunk = await this.next()
      if (!chunk) throw truncated()
      const held = this.buf
      if (chunk.length < keep) {
        let out: Buffer | undefined
        if (held.length > keep) {
          out = held.subarray(0, held.length - keep)
          this.buf = Buffer.concat([held.subarray(held.length - keep), chunk])
        } else {
          this.buf = held.length === 0 ? chunk : Buffer.concat([held, chunk])
        }
        at = this.buf.indexOf(marker)
        if (out) yield out
        continue
      }
      // A marker starting in `held` (only in its last `keep` bytes) ends in the chunk's first `keep`.
      const tail = held.subarray(Math.max(0, held.length - keep))
      if (tail.length > 0) {
        const split = Buffer.concat([tail, chunk.subarray(0, keep)]).indexOf(marker)
        if (split >= 0 && split < tail.length) {
          const cut = held.length - tail.length + split
          this.buf = chunk.subarray(marker.length - (tail.length - split))
          this.inBody = false
          if (cut > 0) yield held.subarray(0, cut)
          return
        }
      }
      this.buf = chunk
      at = chunk.indexOf(marker)
      if (held.length > 0) yield held
    }
  }
}

function truncated(): InvalidArgumentError {
  return new InvalidArgumentError('malformed multipart body: unexpected end of input')
}
