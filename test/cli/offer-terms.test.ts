// Offer terms on the command line (`publish --price …`, `offer create`) are checked before anything is
// signed or sent: a bad --epsilon once surfaced only after the asset was minted. The API here is a closed
// port, so any of these reaching the network would fail differently (exit 1).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { EXIT } from '../../cli/src/exit-codes'
import { main } from '../../cli/src/main'

const dir = mkdtempSync(join(tmpdir(), 'offer-terms-'))
const csv = join(dir, 'd.csv')
writeFileSync(csv, 'a,b\n1,2\n')

async function cli(args: string[]) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let err = ''
  stderr.on('data', (d) => (err += d))
  const code = await main(args, {
    stdout,
    stderr,
    env: { STILLFLOW_HOME: dir, STILLFLOW_PRIVATE_KEY: '11'.repeat(32), STILLFLOW_API: 'http://127.0.0.1:1/api' },
  })
  return { code, err }
}

describe('offer terms from the command line', () => {
  it.each([
    [['--epsilon', '1'], /--epsilon is a term of the offer: give --price too/],
    [['--jobs', '3'], /--jobs is a term of the offer/],
    [['--price', '1', '--epsilon=-1'], /--epsilon must be a number from 0\.001 to 1000000/],
    [['--price', '1', '--epsilon', 'lots'], /--epsilon must be a number/],
    [['--price', '1', '--jobs', '4294967296'], /--jobs must be a number from 1 to 4294967295/],
    [['--price', '1', '--days', '2', '--seconds', '5'], /--days or --seconds, not both/],
    [['--price', '1', '--days', '40000'], /--days must be a number/],
    [['--price', 'free'], /--price is an amount/],
    [['--price', '-1'], /--price/],
    [
      ['--price', '1', '--epsilon', '0.5'],
      /--epsilon 0\.5 could not pay for one query: under --policy dp each query spends ε 1/,
    ],
  ])('publish %j: refused with the usage code before anything is sent', async (flags, message) => {
    const r = await cli(['publish', csv, '--title', 't', ...flags])
    expect(r.code).toBe(EXIT.usage)
    expect(r.err).toMatch(message)
  })

  it('publish takes a small ε budget on an aggregates-only asset, whose queries spend no ε (reaches the network)', async () => {
    const r = await cli([
      'publish',
      csv,
      '--title',
      't',
      '--policy',
      'aggregates-only',
      '--price',
      '1',
      '--epsilon',
      '0.5',
    ])
    expect(r.code).toBe(EXIT.failure)
  })

  it('publish refuses an empty file and declaration options the SDK would refuse, with the usage code', async () => {
    const empty = join(dir, 'empty.csv')
    writeFileSync(empty, '')
    const notJson = join(dir, 'policy.txt')
    writeFileSync(notJson, 'mode: dp')
    for (const [args, message] of [
      [[empty, '--title', 't'], /empty\.csv is empty/],
      // "Weather" is the tag "weather" (the CLI lowercases tags); an underscore is no tag at all.
      [[csv, '--title', 't', '--tags', 'Weather,rain_fall'], /tags entry "rain_fall" must be 1-32 lowercase/],
      [[csv, '--title', 'x'.repeat(121)], /name is longer than 120/],
      [[csv, '--title', 't', '--policy-file', join(dir, 'none.json')], /--policy-file .*none\.json: ENOENT/],
      [[csv, '--title', 't', '--policy-file', notJson], /--policy-file .*policy\.txt: not JSON/],
      [[csv, '--title', 't', '--identifier', 'id', '--policy', 'open'], /--policy is dp or aggregates-only/],
    ] as const) {
      const r = await cli(['publish', ...args])
      expect({ code: r.code, err: r.err }).toMatchObject({ code: EXIT.usage, err: expect.stringMatching(message) })
    }
  })

  it('offer create needs --price and checks the same terms', async () => {
    expect((await cli(['offer', 'create', '1'])).err).toMatch(/--price ETH is required/)
    const r = await cli(['offer', 'create', '1', '--price', '1', '--epsilon', '0'])
    expect(r.code).toBe(EXIT.usage)
    expect(r.err).toMatch(/--epsilon must be a number from 0\.001/)
  })
})
