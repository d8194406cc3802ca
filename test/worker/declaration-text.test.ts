// The API refuses a declaration whose title or description listings could not show as written (the same
// rule the client applies before signing, sdk/src/display-text.ts): bidi overrides, control characters, a
// line break in a title; lengths are characters, so an emoji title is not refused at half its length.
import { describe, expect, it } from 'vitest'
import { declarationSchema } from '../../worker/src/routes/assets'

const declaration = (name: string, description = '') => ({
  name,
  description,
  attributes: [],
  stillflow: {
    version: 'stillflow.asset/v1',
    owner: `0x${'aa'.repeat(20)}`,
    chainId: 31337,
    dataAssetNft: `0x${'11'.repeat(20)}`,
    contentHash: `0x${'cc'.repeat(32)}`,
    ciphertextCid: 'bafkreicid',
    ciphertextSize: 10,
    plaintextSize: 5,
    format: 'csv',
    tags: [],
    policy: { mode: 'dp' },
    lawfulBasis: { basis: 'owned', statement: 'mine', personalData: false },
  },
})

const problems = (d: unknown) => {
  const r = declarationSchema.safeParse(d)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`)
}

describe('declarationSchema: title and description', () => {
  it('takes 120 emoji and a multi-line description', () => {
    expect(problems(declaration('😀'.repeat(120), 'line one\nline two'))).toEqual([])
  })

  it('refuses an override, a control character, a line break in the title, and blank or long titles', () => {
    expect(problems(declaration('Sales\u202egpj.exe'))).toEqual([
      'name contains a bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069)',
    ])
    expect(problems(declaration('ok', 'esc\u001b'))).toEqual(['description contains control characters'])
    expect(problems(declaration('two\nlines'))).toEqual(['name contains a line break or tab'])
    expect(problems(declaration('   '))).toEqual(['name is required'])
    expect(problems(declaration('😀'.repeat(121)))).toEqual(['name is longer than 120 characters'])
  })
})
