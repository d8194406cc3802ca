// The enclave's CSV reader: the records csv-parse gives (with the options the enclave used), for any
// text cut into pieces at any point, and precise errors that never quote the data.
import { parse } from 'csv-parse/sync'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CsvReader, CsvSyntaxError } from '../../tee-sim/src/enclave/csv'

function read(pieces: string[], max = 1 << 20): string[][] {
  const reader = new CsvReader(max)
  const out: string[][] = []
  for (const p of pieces) reader.push(p, out)
  reader.end(out)
  return out
}
const cuts = (text: string, at: number[]) => {
  const points = [...new Set(at.map((a) => a % (text.length + 1)))].sort((a, b) => a - b)
  const out: string[] = []
  let from = 0
  for (const p of points) {
    out.push(text.slice(from, p))
    from = p
  }
  out.push(text.slice(from))
  return out
}
const reference = (text: string): string[][] =>
  parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true }) as string[][]

/** A field as a CSV writer would emit it: quoted when it must be (or at random), quotes doubled. */
const field = fc
  .tuple(fc.stringMatching(/^[a-z0-9 ,"\n\r\u00e9\u{1F600}]{0,8}$/u), fc.boolean())
  .map(([v, forceQuotes]) => (forceQuotes || /[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v))
const row = fc.array(field, { minLength: 1, maxLength: 5 }).map((fs) => fs.join(','))
const document = fc
  .tuple(fc.array(row, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean(), fc.boolean())
  .map(([rows, eol, bom, lastEol]) => (bom ? '\uFEFF' : '') + rows.join(eol) + (lastEol && rows.length ? eol : ''))

describe('CsvReader', () => {
  it('gives the records csv-parse gives, however the text is cut', () => {
    fc.assert(
      fc.property(document, fc.array(fc.nat(), { maxLength: 6 }), (text, at) => {
        expect(read(cuts(text, at))).toEqual(reference(text))
      }),
      { numRuns: 2000 },
    )
  })

  it('reads the common shapes', () => {
    expect(read(['a,b\r\n1,2\r\n\r\n3,"x,\r\ny"\n4,""""'])).toEqual([
      ['a', 'b'],
      ['1', '2'],
      ['3', 'x,\r\ny'],
      ['4', '"'],
    ])
    expect(read(['\uFEFFa,b\n', '1,', ''])).toEqual([
      ['a', 'b'],
      ['1', ''],
    ])
    expect(read(['a\n', '\n\n', 'b'])).toEqual([['a'], ['b']])
    // Lone CR line ends (classic Mac OS exports), told from the first line break outside quotes.
    expect(read(['"h\n1",b\r1,2\r', '\r"x\ry",3\r'])).toEqual([
      ['h\n1', 'b'],
      ['1', '2'],
      ['x\ry', '3'],
    ])
  })

  it.each([
    ['a quote inside an unquoted field', 'a,b\n1,Z"Z\n', 'CSV_INVALID_QUOTE'],
    ['text after a closing quote', 'a,b\n"Z"Z,2\n', 'CSV_INVALID_CLOSING_QUOTE'],
    ['a quote never closed', 'a,b\n"Z,2\n3,4\n', 'CSV_QUOTE_NOT_CLOSED'],
  ])('refuses %s, naming the record but not the data', (_, text, code) => {
    for (const pieces of [[text], text.split('')]) {
      let error: unknown
      try {
        read(pieces)
      } catch (err) {
        error = err
      }
      expect(error).toBeInstanceOf(CsvSyntaxError)
      expect((error as CsvSyntaxError).code).toBe(code)
      expect((error as Error).message).toMatch(/record 2/)
      expect((error as Error).message).not.toContain('Z') // the data's marker
    }
  })

  it('refuses a record over the limit, also while it is still arriving (memory stays bounded)', () => {
    expect(() => read(['a,b\n', `${'x'.repeat(50)},1\n`], 40)).toThrow(/record 2 is longer than 40/)
    const reader = new CsvReader(40)
    const out: string[][] = []
    reader.push('a,b\n', out)
    expect(() => {
      for (let i = 0; i < 10; i++) reader.push('"' + 'x'.repeat(10), out) // an endless quoted field
    }).toThrow(CsvSyntaxError)
  })
})
