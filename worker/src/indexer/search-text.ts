// The text FTS5 sees. Its unicode61 tokenizer cuts at spaces and punctuation, but Chinese and Japanese put
// none between words: 城市收入 was one token, so a search for 收入 never found it. Han, Hiragana and
// Katakana characters are therefore indexed one per token, and a query's run of them is matched as a
// phrase of those characters, in order: 收入 finds 城市收入, 入收 does not.

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/gu

/** `text` as stored in the search table: each CJK character a token of its own. */
export const searchable = (text: string): string => text.replace(CJK, ' $& ')

/** One searched word as an FTS5 string: its tokens as a phrase, the last a prefix ("weath" finds weather). */
export const ftsPhrase = (word: string): string => `"${searchable(word).trim().split(/\s+/).join(' ')}"*`
