// The streaming multipart reader on its own: however the body is cut into chunks, the parts come
// out the same (RFC 2046 §5.1), and malformed bodies fail with InvalidArgumentError.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../ipfs/src/index'
import { boundaryOf, readMultipart } from '../../ipfs/src/http/multipart'
import { multipart } from './support/node'

async function* cut(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0
  for (let i = 0; at < bytes.length; i++) {
    const size = sizes.length > 0 ? Math.max(1, sizes[i % sizes.length]) : bytes.length
    yield bytes.subarray(at, at + size)
    at += size
  }
}

async function parse(body: Uint8Array, boundary: string, sizes: number[] = []) {
  const out: Array<{ name: string; filename: string; contentType: string; body: Buffer }> = []
  for await (const part of readMultipart(cut(body, sizes), boundary)) {
    const chunks: Uint8Array[] = []
    for await (const chunk of part.body) chunks.push(chunk)
    out.push({ name: part.name, filename: part.filename, contentType: part.contentType, body: Buffer.concat(chunks) })
  }
  return out
}

describe('boundaryOf', () => {
  it.each([
    ['multipart/form-data; boundary=abc', 'abc'],
    ['Multipart/Form-Data; charset=x; boundary="quoted value"', 'quoted value'],
  ])('%s → %s', (header, boundary) => {
    expect(boundaryOf(header)).toBe(boundary)
  })

  it.each([
    undefined,
    '',
    'text/plain',
    'multipart/form-data',
    'multipart/form-data; boundary=',
    `multipart/form-data; boundary=${'x'.repeat(71)}`,
  ])('refuses %s', (header) => {
    expect(() => boundaryOf(header)).toThrow(InvalidArgumentError)
  })
})

describe('readMultipart', () => {
  // Bodies full of near-misses: CRLF, dashes and boundary prefixes that must not end a part.
  const tricky = fc
    .array(fc.constantFrom('\r\n', '--', '\r\n--', '\r\n--bound', '\r\n--boundar', 'x', 'bound', '\r', '-'), {
      maxLength: 40,
    })
    .map((pieces) => pieces.join(''))
  const partArb = fc.record({
    filename: fc.constantFrom('', 'a.bin', 'name%20with%20space'),
    body: fc.oneof(tricky, fc.uint8Array({ maxLength: 300 })),
  })

  it('gives the same parts however the body is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(partArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 8 }),
        async (parts, sizes) => {
          const body = multipart(
            'boundary',
            parts.map((p, i) => ({
              headers: [
                `Content-Disposition: form-data; name="file-${i}"; filename="${p.filename}"`,
                'Content-Type: application/octet-stream',
              ],
              body: p.body,
            })),
          )
          const parsed = await parse(body, 'boundary', sizes)
          expect(parsed.map((p) => p.name)).toEqual(parts.map((_, i) => `file-${i}`))
          expect(parsed.map((p) => p.filename)).toEqual(parts.map((p) => decodeURIComponent(p.filename)))
          expect(parsed.map((p) => p.body)).toEqual(parts.map((p) => Buffer.from(p.body)))
        },
      ),
      { numRuns: 300, seed: 20261122 },
    )
  })

  it('skips a preamble and an epilogue', async () => {
    const body = Buffer.concat([
      Buffer.from('preamble text\r\n'),
      multipart('b', [{ headers: ['Content-Disposition: form-data; name="file"'], body: 'data' }]),
      Buffer.from('epilogue'),
    ])
    const [part] = await parse(body, 'b')
    expect(part.body.toString()).toBe('data')
    expect(part.contentType).toBe('application/octet-stream')
  })

  it('moves to the next part when a consumer abandons a body half-way', async () => {
    const body = multipart('b', [
      { headers: ['Content-Disposition: form-data; name="a"'], body: 'x'.repeat(1000) },
      { headers: ['Content-Disposition: form-data; name="b"'], body: 'second' },
    ])
    const names: string[] = []
    let second = ''
    for await (const part of readMultipart(cut(body, [7]), 'b')) {
      names.push(part.name)
      if (part.name === 'a') {
        for await (const chunk of part.body) {
          void chunk
          break
        }
      } else {
        for await (const chunk of part.body) second += Buffer.from(chunk).toString()
      }
    }
    expect(names).toEqual(['a', 'b'])
    expect(second).toBe('second')
  })

  it.each([
    ['no closing delimiter', '--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nabc'],
    ['headers never end', '--b\r\nContent-Disposition: form-data; name="f"'],
    ['no delimiter at all', 'abc'],
    ['nothing at all', ''],
    ['a part without Content-Disposition', '--b\r\nContent-Type: text/plain\r\n\r\nabc\r\n--b--'],
  ])('fails on %s', async (_name, text) => {
    await expect(parse(Buffer.from(text), 'b', [3])).rejects.toThrow(InvalidArgumentError)
  })
})
