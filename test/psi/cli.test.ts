// `stillflow psi`: reading identifiers from CSV columns and text files, and refusing bad command lines.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { main } from '../../cli/src/main'
import { readItems } from '../../cli/src/commands/psi'
import { EXIT } from '../../cli/src/exit-codes'

const dir = mkdtempSync(join(tmpdir(), 'psi-cli-'))

async function cli(args: string[]) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (d) => (out += d))
  stderr.on('data', (d) => (err += d))
  const code = await main(args, {
    stdout,
    stderr,
    env: { STILLFLOW_HOME: dir, STILLFLOW_PRIVATE_KEY: '11'.repeat(32), STILLFLOW_API: 'http://127.0.0.1:9/api' },
  })
  return { code, out, err }
}

describe('readItems', () => {
  it('reads UTF-8 in any script, drops a byte-order mark, compares in NFC, and refuses GBK', () => {
    const f = join(dir, 'bom.csv')
    writeFileSync(f, '\uFEFF姓名,email\n张三,zhang@x.org\nJose\u0301,jose@x.org\n')
    expect(readItems(f, '姓名')).toEqual(['张三', 'Jos\u00e9'])
    const lines = join(dir, 'bom.txt')
    writeFileSync(lines, '\uFEFF张三\nJose\u0301\n')
    expect(readItems(lines)).toEqual(['张三', 'Jos\u00e9'])
    // 张三 / 李四 in GBK: read leniently, both were the same run of U+FFFD.
    const gbk = join(dir, 'gbk.txt')
    writeFileSync(gbk, Buffer.from([0xd5, 0xc5, 0xc8, 0xfd, 0x0a, 0xc0, 0xee, 0xcb, 0xc4, 0x0a]))
    expect(() => readItems(gbk)).toThrow(/is not UTF-8 text/)
  })

  it('reads a CSV column by header, trimming and skipping empty cells', () => {
    const f = join(dir, 'a.csv')
    writeFileSync(f, 'id,email\n1, ann@x.org \n2,\n3,"bob@x.org"\n')
    expect(readItems(f, 'email')).toEqual(['ann@x.org', 'bob@x.org'])
    expect(() => readItems(f, 'phone')).toThrow(/no column "phone"/)
  })

  it('reads one identifier per line from a text file', () => {
    const f = join(dir, 'a.txt')
    writeFileSync(f, 'ann\r\n\n  bob  \nann\n')
    expect(readItems(f)).toEqual(['ann', 'bob', 'ann'])
    expect(() => readItems(join(dir, 'missing.txt'))).toThrow(/no such file/)
  })

  it('refuses a list with no identifiers and a CSV that does not parse, naming the file (usage errors)', () => {
    const blank = join(dir, 'blank.txt')
    writeFileSync(blank, '\n  \n')
    expect(() => readItems(blank)).toThrow(
      expect.objectContaining({ exitCode: EXIT.usage, message: `${blank} holds no identifiers` }),
    )
    const ragged = join(dir, 'ragged.csv')
    writeFileSync(ragged, 'id,email\n1,ann@x.org\n2\n')
    expect(() => readItems(ragged, 'email')).toThrow(
      expect.objectContaining({
        exitCode: EXIT.usage,
        message: expect.stringMatching(/ragged\.csv is not valid CSV: .*line 3/),
      }),
    )
  })
})

describe('stillflow psi', () => {
  it('is listed in the help', async () => {
    expect((await cli(['--help'])).out).toMatch(/psi\s+private set intersection/)
  })

  it('refuses bad command lines with the usage exit code', async () => {
    const cases = [
      ['psi'],
      ['psi', 'frobnicate'],
      ['psi', 'create'],
      ['psi', 'create', '--peer', 'nobody'],
      ['psi', 'create', '--peer', '0x' + '22'.repeat(20), '--role', 'C'],
      ['psi', 'join', '0x1234'],
      ['psi', 'run', '0x' + 'ab'.repeat(32)],
      ['psi', 'run', '0x' + 'ab'.repeat(32), '--input', join(dir, 'nope.txt')],
    ]
    for (const args of cases) expect({ args, code: (await cli(args)).code }).toEqual({ args, code: EXIT.usage })
  })

  it('needs local state (the transport key) from create or join before run', async () => {
    const f = join(dir, 'ids.txt')
    writeFileSync(f, 'ann\n')
    const r = await cli(['psi', 'run', '0x' + 'cd'.repeat(32), '--input', f])
    expect(r.code).toBe(EXIT.usage)
    expect(r.err).toMatch(/create or join it first/)
  })
})
