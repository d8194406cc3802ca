// Text other people read on a listing — an asset's title and description — for the client that signs it
// into a declaration and for the API that takes it. No control characters and no bidirectional overrides
// or isolates, which let a title pass for another ("U+202E" reverses what follows), and no line breaks in
// a title; lengths count characters (code points), not UTF-16 units: 61 emoji are 61 characters, not 122.

const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/u
const BIDI = /[\u202a-\u202e\u2066-\u2069]/u

/** Characters as people count them (code points; a combined emoji may still count as several). */
export const characters = (text: string): number => [...text].length

/**
 * Why `text` cannot be shown on a listing, as the end of a sentence naming the field, or undefined.
 * @example displayTextProblem('Sales\u202Egpj.exe', { max: 120, multiline: false }) // 'contains a bidirectional …'
 */
export function displayTextProblem(text: string, opts: { max: number; multiline: boolean }): string | undefined {
  if (BIDI.test(text)) return 'contains a bidirectional override or isolate (U+202A–U+202E, U+2066–U+2069)'
  if (CONTROL.test(text)) return 'contains control characters'
  if (!opts.multiline && /[\n\r\t]/.test(text)) return 'contains a line break or tab'
  if (characters(text) > opts.max) return `is longer than ${opts.max} characters`
  return undefined
}
