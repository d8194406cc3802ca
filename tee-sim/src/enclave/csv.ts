// A streaming CSV record reader (RFC 4180: comma-separated, `"` quotes with `""` escapes, quoted fields
// may hold commas and line breaks; records end in LF or CRLF, or — as csv-parse detected, for files from
// classic Mac OS and some spreadsheet exports — in a lone CR, decided by the first line break outside quotes). Why not csv-parse: ingest and every job
// parse the whole dataset, and csv-parse, which walks every character through its option-rich state
// machine, was half of a 256 MiB ingest (5 of 11 s, bench/RESULTS.md publish). Lines without a quote —
// nearly all of a typical dataset — take a fast path: one `indexOf` for the line end and one `split`.
//
// Behaviour the enclave relied on from csv-parse and keeps: a leading UTF-8 BOM is dropped, empty lines
// are skipped, rows may have any number of fields (the caller checks them against the header), a quote
// inside an unquoted field, text after a closing quote and an unclosed quote are errors, and a record
// longer than the limit is an error (also while it is still arriving, so memory stays bounded). Errors
// carry a code and never quote the data (the input is decrypted plaintext).

/** A malformed CSV input; `code` names the problem (the message never contains field values). */
export class CsvSyntaxError extends Error {
  override name = 'CsvSyntaxError'
  constructor(
    readonly code: 'CSV_INVALID_QUOTE' | 'CSV_INVALID_CLOSING_QUOTE' | 'CSV_QUOTE_NOT_CLOSED' | 'CSV_MAX_RECORD_SIZE',
    message: string,
  ) {
    super(message)
  }
}

/**
 * The record delimiter of a text, from its first line break outside quotes: LF for LF or CRLF, CR for
 * a lone CR; 0 when that cannot be told yet (no line break, or a CR that may be followed by LF).
 */
function detectEol(buf: string, final: boolean): 0 | 10 | 13 {
  let quoted = false
  for (let i = 0; i < buf.length; i++) {
    const c = buf.charCodeAt(i)
    if (c === 34)
      quoted = !quoted // "" toggles twice: still inside
    else if (quoted) continue
    else if (c === 10) return 10
    else if (c === 13) {
      if (i + 1 === buf.length) return final ? 13 : 0
      return buf.charCodeAt(i + 1) === 10 ? 10 : 13
    }
  }
  return final ? 10 : 0
}

/**
 * Turns text, fed in pieces of any size, into records.
 *
 * @example
 * const reader = new CsvReader(1 << 20)
 * const records: string[][] = []
 * for (const piece of pieces) reader.push(piece, records)
 * reader.end(records)
 */
export class CsvReader {
  private carry = ''
  private started = false
  private record = 0
  /** The record delimiter: LF (CRLF too) or a lone CR; 0 until the first line break is seen. */
  private eol: 0 | 10 | 13 = 0

  /** @param maxRecordChars the longest record accepted, in UTF-16 code units */
  constructor(private readonly maxRecordChars: number) {}

  /** Appends the records completed by `text` to `out`. */
  push(text: string, out: string[][]): void {
    if (!this.started && text.length > 0) {
      this.started = true
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1)
    }
    const buf = this.carry.length > 0 ? this.carry + text : text
    this.carry = buf.slice(this.read(buf, false, out))
    if (this.carry.length > this.maxRecordChars) this.tooLong()
  }

  /** Appends the last record (one not followed by a line break) to `out`. */
  end(out: string[][]): void {
    const buf = this.carry
    this.carry = ''
    this.read(buf, true, out)
  }

  /** Reads whole records from `buf`; returns where the unfinished rest starts. */
  private read(buf: string, final: boolean, out: string[][]): number {
    if (this.eol === 0) {
      const eol = detectEol(buf, final)
      if (eol === 0) return 0 // no line break yet: all of it is the first record's (the size limit holds)
      this.eol = eol
    }
    const eol = this.eol
    const eolChar = eol === 10 ? '\n' : '\r'
    let pos = 0
    let quote = buf.indexOf('"')
    if (quote === -1) quote = buf.length
    while (pos < buf.length) {
      let nl = buf.indexOf(eolChar, pos)
      if (nl === -1) {
        if (!final) return pos
        nl = buf.length
      }
      if (quote >= nl) {
        // The fast path: a whole line without a quote.
        const end = eol === 10 && nl > pos && buf.charCodeAt(nl - 1) === 13 ? nl - 1 : nl
        if (end - pos > this.maxRecordChars) this.tooLong()
        if (end > pos) {
          out.push(buf.slice(pos, end).split(','))
          this.record++
        }
        pos = nl + 1
        continue
      }
      const next = this.quoted(buf, pos, final, out)
      if (next === -1) return pos // the record continues in text not yet pushed
      pos = next
      quote = buf.indexOf('"', pos)
      if (quote === -1) quote = buf.length
    }
    return pos
  }

  /**
   * Reads one record that contains a quote, starting at `pos`; returns where the next record starts, or
   * -1 when the record is not complete in `buf` (and more text may follow).
   */
  private quoted(buf: string, pos: number, final: boolean, out: string[][]): number {
    const fields: string[] = []
    const eol = this.eol
    const lf = eol === 10 // CRLF is a line end too
    let i = pos
    for (;;) {
      let field: string
      if (buf.charCodeAt(i) === 34) {
        // A quoted field: up to the closing quote, with "" standing for one quote.
        field = ''
        let from = i + 1
        for (;;) {
          const q = buf.indexOf('"', from)
          if (q === -1) {
            if (!final) return -1
            throw new CsvSyntaxError(
              'CSV_QUOTE_NOT_CLOSED',
              `record ${this.record + 1} has a quote that is never closed`,
            )
          }
          if (q + 1 === buf.length && !final) return -1 // is it "" or the closing quote? Wait for more.
          if (buf.charCodeAt(q + 1) === 34) {
            field += buf.slice(from, q + 1)
            from = q + 2
            continue
          }
          field += buf.slice(from, q)
          i = q + 1
          break
        }
        const c = buf.charCodeAt(i)
        if (lf && c === 13 && i + 1 === buf.length) {
          if (!final) return -1 // CR then, perhaps, LF
        } else if (i < buf.length && c !== 44 && c !== eol && !(lf && c === 13 && buf.charCodeAt(i + 1) === 10)) {
          throw new CsvSyntaxError(
            'CSV_INVALID_CLOSING_QUOTE',
            `record ${this.record + 1}: a closing quote must be followed by a comma or the end of the line`,
          )
        }
      } else {
        // An unquoted field: up to the next comma or line end (scanned here, not with indexOf, which
        // could run to the end of the buffer for every field); it may not contain a quote.
        let end = i
        let c = buf.charCodeAt(end)
        while (end < buf.length && c !== 44 && c !== eol) {
          if (c === 34) {
            throw new CsvSyntaxError(
              'CSV_INVALID_QUOTE',
              `record ${this.record + 1}: a quote inside a field must be in a quoted field, doubled`,
            )
          }
          c = buf.charCodeAt(++end)
        }
        if (end === buf.length && !final) return -1
        const lineEnd = c === eol || end === buf.length
        field = buf.slice(i, lf && lineEnd && end > i && buf.charCodeAt(end - 1) === 13 ? end - 1 : end)
        i = end
      }
      fields.push(field)
      if (i - pos > this.maxRecordChars) this.tooLong()
      if (i >= buf.length) break
      const c = buf.charCodeAt(i)
      if (c === 44) {
        i++
        if (i === buf.length) {
          if (!final) return -1
          fields.push('') // a trailing comma ends with an empty field
          break
        }
        continue
      }
      i += lf && c === 13 ? 2 : 1 // CRLF (or a final CR) or LF, or a lone CR
      break
    }
    out.push(fields)
    this.record++
    return i
  }

  private tooLong(): never {
    throw new CsvSyntaxError(
      'CSV_MAX_RECORD_SIZE',
      `record ${this.record + 1} is longer than ${this.maxRecordChars} characters`,
    )
  }
}
