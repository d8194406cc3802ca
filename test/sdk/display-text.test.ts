// Titles and descriptions as listings show them (sdk/src/display-text.ts), checked by the client before
// it signs and by the API (worker/src/routes/assets.ts declarationSchema) before it takes a publication.
import { describe, expect, it } from 'vitest'
import { checkDeclarationInput, InvalidPublicationError } from '../../sdk/src/index'
import { characters, displayTextProblem } from '../../sdk/src/display-text'

const title = { max: 120, multiline: false }
const input = (name: string, description = '') => ({
  name,
  description,
  lawfulBasis: { basis: 'owned', statement: 'mine', personalData: false },
})

describe('display text', () => {
  it('counts characters, not UTF-16 units: 120 emoji are a title, 121 are not', () => {
    expect(characters('😀'.repeat(120))).toBe(120)
    expect(displayTextProblem('😀'.repeat(120), title)).toBeUndefined()
    expect(displayTextProblem('😀'.repeat(121), title)).toBe('is longer than 120 characters')
  })

  it('refuses bidirectional overrides and isolates, which make a title read as another', () => {
    for (const c of ['\u202a', '\u202e', '\u2066', '\u2069'])
      expect(displayTextProblem(`Sales${c}gpj.exe`, title)).toMatch(/bidirectional override/)
  })

  it('refuses control characters everywhere and line breaks in a title, not in a description', () => {
    expect(displayTextProblem('a\u001b[31mred', title)).toBe('contains control characters')
    expect(displayTextProblem('a\u0000b', { max: 4000, multiline: true })).toBe('contains control characters')
    expect(displayTextProblem('two\nlines', title)).toBe('contains a line break or tab')
    expect(displayTextProblem('two\nlines\tand a tab', { max: 4000, multiline: true })).toBeUndefined()
    // Scripts written right to left are text, not overrides.
    expect(displayTextProblem('بيانات المبيعات', title)).toBeUndefined()
  })

  it('is what checkDeclarationInput refuses, naming the field', () => {
    expect(() => checkDeclarationInput(input('Sales\u202egpj.exe'))).toThrow(InvalidPublicationError)
    expect(() => checkDeclarationInput(input('ok', 'bell\u0007'))).toThrow(/description contains control characters/)
    expect(() => checkDeclarationInput(input('😀'.repeat(61)))).not.toThrow()
  })
})
