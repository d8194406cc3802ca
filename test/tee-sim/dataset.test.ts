import { describe, expect, it } from 'vitest'
import { parseDataset, type Column } from '../../tee-sim/src/enclave/dataset'
import { DatasetFormatError } from '../../tee-sim/src/errors'

const enc = (s: string) => new TextEncoder().encode(s)
const split = (s: string, n: number) => {
  const b = enc(s)
  const out: Uint8Array[] = []
  for (let o = 0; o < b.length; o += n) out.push(b.slice(o, o + n))
  return out
}
const cell = (c: Column, i: number) =>
  'values' in c ? (Number.isNaN(c.values[i]) ? null : c.values[i]) : c.codes[i] < 0 ? null : c.dict[c.codes[i]]

describe('CSV', () => {
  const csv =
    'region,price,qty,ok,note\nnorth,1.5,3,true,"a, quoted\nfield"\nsouth,2,,false,plain\n\nnorth,-0.25,7,TRUE,\n'

  it('parses quoted fields and embedded newlines across any chunking, and infers types', async () => {
    for (const n of [1, 3, 7, 1000]) {
      const d = await parseDataset('csv', split(csv, n))
      expect(d.schema).toEqual([
        { name: 'region', type: 'string' },
        { name: 'price', type: 'number' },
        { name: 'qty', type: 'integer' },
        { name: 'ok', type: 'boolean' },
        { name: 'note', type: 'string' },
      ])
      expect(d.rowCount).toBe(3)
      expect([0, 1, 2].map((i) => d.columns.map((c) => cell(c, i)))).toEqual([
        ['north', 1.5, 3, 'true', 'a, quoted\nfield'],
        ['south', 2, null, 'false', 'plain'],
        ['north', -0.25, 7, 'true', null],
      ])
    }
  })

  it('refuses a semicolon-, tab- or bar-separated export at ingest, saying so (it would be a one-column asset)', async () => {
    for (const [text, words] of [
      ['id;name;score\n1;a;2\n', 'semicolons'],
      ['id\tname\n1\ta\n', 'tabs'],
      ['id|name\n1|a\n', 'vertical bars'],
    ]) {
      const err = await parseDataset('csv', [enc(text)]).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(DatasetFormatError)
      expect((err as Error).message).toBe(
        `the header is a single column with ${words} in it: this looks like a file separated by ${words}, but CSV here is comma-separated; save it with commas (or as JSON lines) and publish that`,
      )
    }
    // One column with no other separator is a dataset, and a comma-separated header may hold a semicolon.
    expect((await parseDataset('csv', [enc('score\n1\n2\n')])).schema).toEqual([{ name: 'score', type: 'integer' }])
    expect((await parseDataset('csv', [enc('"a;b",c\n1,2\n')])).rowCount).toBe(1)
  })

  it('keeps identifiers made of digits as text: leading zeros, and more digits than a double holds', async () => {
    const ids =
      'zip,resident,card,qty,ratio\n02134,110101199003077777,4111111111111111,7,0.5\n10001,110101199003071234,5500000000000004,8,-0.25\n'
    const d = await parseDataset('csv', [enc(ids)])
    expect(d.schema).toEqual([
      { name: 'zip', type: 'string' },
      { name: 'resident', type: 'string' },
      { name: 'card', type: 'string' },
      { name: 'qty', type: 'integer' },
      { name: 'ratio', type: 'number' },
    ])
    // As numbers, 02134 would equal 2134 and the two 18-digit ids would round to nearby doubles.
    expect(d.columns.slice(0, 3).map((c) => cell(c, 0))).toEqual(['02134', '110101199003077777', '4111111111111111'])
  })

  it('wipes every decrypted input chunk and still parses correctly', async () => {
    const chunks = split(csv, 5)
    const d = await parseDataset('csv', chunks)
    expect(d.rowCount).toBe(3)
    expect(chunks.every((c) => c.every((b) => b === 0))).toBe(true)
  })

  it('enforces a known schema', async () => {
    await expect(
      parseDataset('csv', [enc('a,b\n1,x\n')], {
        schema: [
          { name: 'a', type: 'integer' },
          { name: 'b', type: 'integer' },
        ],
      }),
    ).rejects.toThrow(/declared integer/)
    await expect(
      parseDataset('csv', [enc('a,c\n1,2\n')], {
        schema: [
          { name: 'a', type: 'integer' },
          { name: 'b', type: 'integer' },
        ],
      }),
    ).rejects.toThrow(/differ/)
  })

  it.each([
    ['ragged rows', 'a,b\n1,2\n3\n', /fields/],
    ['duplicate columns', 'a,a\n1,2\n', /duplicate/],
    ['an empty column name', 'a,\n1,2\n', /non-empty/],
    ['no header', '', /no header/],
    ['a header and no rows', 'a,b\r\n\r\n', /no rows/],
    ['an unterminated quote', 'a,b\n"1,2\n', /CSV/],
  ])('rejects %s', async (_, text, msg) => {
    await expect(parseDataset('csv', [enc(text)])).rejects.toThrow(msg)
    await expect(parseDataset('csv', [enc(text)])).rejects.toThrow(DatasetFormatError)
  })

  it('enforces row and column limits', async () => {
    await expect(parseDataset('csv', [enc('a\n1\n2\n3\n')], { limits: { maxRows: 2 } })).rejects.toThrow(
      /more than 2 rows/,
    )
    await expect(parseDataset('csv', [enc('a,b,c\n1,2,3\n')], { limits: { maxColumns: 2 } })).rejects.toThrow(
      /more than 2 columns/,
    )
  })

  it('propagates a source error (e.g. a failed decryption) unchanged', async () => {
    class Boom extends Error {}
    async function* bad() {
      yield enc('a,b\n1,2\n')
      throw new Boom('tag mismatch')
    }
    await expect(parseDataset('csv', bad())).rejects.toBeInstanceOf(Boom)
  })

  it('says which record is not valid CSV and why, without its contents', async () => {
    const err = await parseDataset('csv', [enc(`a,b\n${'Z'.repeat(100)},1\n`)], {
      limits: { maxRecordBytes: 40 },
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatasetFormatError)
    expect((err as DatasetFormatError).shortMessage).toMatch(/^not valid CSV: record 2 is longer than 40/)
    expect((err as DatasetFormatError).shortMessage).not.toContain('Z')
  })

  it('takes UTF-8 in any script, split anywhere, and refuses a GBK file saying where and not what', async () => {
    const text = '城市,人数\n北京,1\n上海,2\n'
    for (const n of [1, 2, 5]) {
      const d = await parseDataset('csv', split(text, n))
      expect(d.schema.map((c) => c.name)).toEqual(['城市', '人数'])
      expect([0, 1].map((i) => cell(d.columns[0], i))).toEqual(['北京', '上海'])
    }
    // The same table as Excel saves it on a Chinese Windows (GBK). Decoded leniently, 北京 and 上海 both
    // became U+FFFD runs: one group.
    const gbk = Uint8Array.from([
      ...[0xb3, 0xc7, 0xca, 0xd0, 0x2c, 0xc8, 0xcb, 0xca, 0xfd, 0x0a], // 城市,人数
      ...[0xb1, 0xb1, 0xbe, 0xa9, 0x2c, 0x31, 0x0a], // 北京,1
      ...[0xc9, 0xcf, 0xba, 0xa3, 0x2c, 0x32, 0x0a], // 上海,2
    ])
    const err = await parseDataset('csv', [gbk.slice(0, 12), gbk.slice(12)]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(DatasetFormatError)
    expect((err as DatasetFormatError).shortMessage).toMatch(/not UTF-8 text .*between bytes 0 and 11.*CSV UTF-8/)
    // A character cut short at the very end.
    await expect(parseDataset('csv', [enc('a\n'), Uint8Array.from([0xe5, 0x8c])])).rejects.toThrow(/at its end/)
  })
})

describe('JSON lines', () => {
  it('parses objects with missing keys, across chunks', async () => {
    const text = '{"city":"Oslo","temp":-3.5}\n{"city":"Rome","temp":12,"wet":true}\n\n{"temp":null,"city":"Oslo"}'
    const d = await parseDataset('jsonl', split(text, 4))
    expect(d.schema).toEqual([
      { name: 'city', type: 'string' },
      { name: 'temp', type: 'number' },
      { name: 'wet', type: 'boolean' },
    ])
    expect([0, 1, 2].map((i) => d.columns.map((c) => cell(c, i)))).toEqual([
      ['Oslo', -3.5, null],
      ['Rome', 12, 'true'],
      ['Oslo', null, null],
    ])
  })

  it.each([
    ['invalid JSON', '{"a":1}\n{nope}\n', /line 2/],
    ['a non-object', '[1,2]\n', /not a JSON object/],
    ['a nested value', '{"a":{"b":1}}\n', /nested/],
    ['no rows', '\n\n', /no rows/],
  ])('rejects %s', async (_, text, msg) => {
    await expect(parseDataset('jsonl', [enc(text)])).rejects.toThrow(msg)
  })

  it('rejects invalid UTF-8 and unknown formats', async () => {
    await expect(parseDataset('jsonl', [new Uint8Array([0x7b, 0xff, 0x7d, 0x0a])])).rejects.toThrow(DatasetFormatError)
    await expect(parseDataset('xml' as 'csv', [enc('<a/>')])).rejects.toThrow(/unsupported format/)
  })
})
