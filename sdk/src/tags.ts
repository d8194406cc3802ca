// What a tag may be, for the client that signs it into a declaration and for the API that lists by it:
// 1–32 letters that are lowercase or have no case (北京, données, città), digits and dashes, starting with
// a letter or digit, in NFC so the same word is always the same tag. ASCII-only tags left owners who
// describe their data in Chinese (the product's first users) without tags at all.

const TAG = /^[\p{Ll}\p{Lo}\p{Lm}\p{Nd}][\p{Ll}\p{Lo}\p{Lm}\p{Mn}\p{Mc}\p{Nd}-]{0,31}$/u

/** How a refused tag is explained, after `tag "x" `. */
export const TAG_RULE =
  'must be 1-32 lowercase letters (any script), digits and dashes, starting with a letter or digit'

export const isTag = (t: unknown): t is string => typeof t === 'string' && TAG.test(t) && t === t.normalize('NFC')
