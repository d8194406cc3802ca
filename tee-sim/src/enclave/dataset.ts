// Datasets inside the enclave: streaming parse of CSV (./csv.ts) and JSON lines into columns, schema
// inference, and wiping of decrypted input chunks once the parser no longer references them.
import { iterateBytes, type ByteSource } from '../byte-source'
import { wipe } from '../bytes'
import { DatasetFormatError, EnclaveError } from '../errors'
import { CsvReader, CsvSyntaxError } from './csv'

export type DatasetFormat = 'csv' | 'jsonl'
export type ColumnType = 'integer' | 'number' | 'boolean' | 'string'

export interface ColumnSchema {
  name: string
  type: ColumnType
}

/** Numeric columns as Float64Array (NaN = null); text and boolean columns dictionary-encoded (-1 = null). */
export type Column =
  | { name: string; type: 'integer' | 'number'; values: Float64Array }
  | { name: string; type: 'string' | 'boolean'; codes: Int32Array; dict: string[] }

export interface Dataset {
  schema: ColumnSchema[]
  rowCount: number
  columns: Column[]
}

export interface DatasetLimits {
  maxRows: number
  maxColumns: number
  maxRecordBytes: number
}

export const DEFAULT_DATASET_LIMITS: DatasetLimits = { maxRows: 20_000_000, maxColumns: 256, maxRecordBytes: 1 << 20 }

const INT_RE = /^[-+]?\d{1,15}$/
const NUM_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/
/**
 * Digits that are an identifier, not a quantity: a leading zero (zip codes, account numbers: "00123" is not
 * "123") or more digits than a double holds exactly (18-digit resident ids, 16-digit card numbers). As
 * numbers they would lose what makes them equal or different — wrong matches in a join or a PSI.
 */
const IDENTIFIER_RE = /^[-+]?(0\d|\d{16,})/

/** Raw string cells per column, typed at the end (or by a known schema). */
class RawColumns {
  readonly cells: (string | null)[][]
  constructor(readonly names: string[]) {
    this.cells = names.map(() => [])
  }
  get rows(): number {
    return this.cells[0]?.length ?? 0
  }
}

function checkNames(names: string[], limits: DatasetLimits): string[] {
  if (names.length === 0) throw new DatasetFormatError('dataset has no columns')
  if (names.length > limits.maxColumns)
    throw new DatasetFormatError(`dataset has more than ${limits.maxColumns} columns`)
  const seen = new Set<string>()
  for (const n of names) {
    if (typeof n !== 'string' || n.trim() === '') throw new DatasetFormatError('column names must be non-empty')
    if (n.length > 128) throw new DatasetFormatError('column names must be at most 128 characters')
    if (seen.has(n)) throw new DatasetFormatError(`duplicate column name "${n}"`)
    seen.add(n)
  }
  return names
}

function inferType(cells: (string | null)[]): ColumnType {
  let int = true
  let num = true
  let bool = true
  let any = false
  for (const c of cells) {
    if (c === null) continue
    any = true
    if ((int || num) && IDENTIFIER_RE.test(c)) int = num = false
    if (int && !INT_RE.test(c)) int = false
    if (!int && num && !NUM_RE.test(c)) num = false
    if (bool && c !== 'true' && c !== 'false' && c !== 'TRUE' && c !== 'FALSE' && c !== 'True' && c !== 'False')
      bool = false
    if (!int && !num && !bool) return 'string'
  }
  if (!any) return 'string'
  if (bool) return 'boolean'
  return int ? 'integer' : num ? 'number' : 'string'
}

/** @param inferred the type came from inferType, which already matched every cell against its pattern */
function toColumn(name: string, type: ColumnType, cells: (string | null)[], inferred: boolean): Column {
  const n = cells.length
  if (type === 'integer' || type === 'number') {
    const values = new Float64Array(n)
    const re = type === 'number' ? NUM_RE : INT_RE
    for (let i = 0; i < n; i++) {
      const c = cells[i]
      if (c === null) values[i] = NaN
      else {
        const v = Number(c)
        if (!Number.isFinite(v) || (!inferred && !re.test(c))) {
          throw new DatasetFormatError(`column "${name}" is declared ${type} but row ${i + 1} is not`)
        }
        values[i] = v
      }
    }
    return { name, type, values }
  }
  const dict: string[] = []
  const index = new Map<string, number>()
  const codes = new Int32Array(n)
  for (let i = 0; i < n; i++) {
    let c = cells[i]
    if (c === null) {
      codes[i] = -1
      continue
    }
    if (type === 'boolean') {
      const l = c.toLowerCase()
      if (l !== 'true' && l !== 'false')
        throw new DatasetFormatError(`column "${name}" is declared boolean but row ${i + 1} is not`)
      c = l
    }
    let code = index.get(c)
    if (code === undefined) {
      code = dict.length
      dict.push(c)
      index.set(c, code)
    }
    codes[i] = code
  }
  return { name, type, codes, dict }
}

function finish(raw: RawColumns, known?: ColumnSchema[]): Dataset {
  if (known) {
    const names = known.map((c) => c.name)
    if (names.length !== raw.names.length || names.some((n, i) => n !== raw.names[i])) {
      throw new DatasetFormatError('dataset columns differ from the schema recorded at ingest')
    }
  }
  const schema = raw.names.map((name, i) => ({ name, type: known ? known[i].type : inferType(raw.cells[i]) }))
  const columns = schema.map((c, i) => toColumn(c.name, c.type, raw.cells[i], !known))
  const rowCount = raw.rows
  for (const c of raw.cells) c.length = 0
  return { schema, rowCount, columns }
}

/**
 * The next piece of text, or (no chunk) the end of it. Refuses bytes that are not UTF-8 with where they
 * are, never what they are: they are plaintext.
 */
function utf8Text(decoder: TextDecoder, chunk: Uint8Array | undefined, offset: number): string {
  try {
    return chunk ? decoder.decode(chunk, { stream: true }) : decoder.decode()
  } catch (cause) {
    const where = chunk ? `between bytes ${offset} and ${offset + chunk.length - 1}` : 'at its end'
    // The hint is in the short message: only that reaches the publisher (host/errors.ts).
    throw new DatasetFormatError(
      `the file is not UTF-8 text (a byte sequence ${where} is not UTF-8); save it as UTF-8 (Excel: "CSV UTF-8")`,
      { cause },
    )
  }
}

/** Separators of other "CSV" exports (Excel in many locales writes `;`), by the name a message gives. */
const OTHER_SEPARATORS: Array<[string, string]> = [
  [';', 'semicolons'],
  ['\t', 'tabs'],
  ['|', 'vertical bars'],
]

/**
 * Refuses, at ingest, a header that is one column with another separator in it: a semicolon- or tab-
 * separated export read as comma-separated is a one-column asset no query can use, minted for good (a
 * content hash is published once).
 */
function refuseOtherSeparator(header: string[]): void {
  if (header.length !== 1) return
  const found = OTHER_SEPARATORS.find(([sep]) => header[0].includes(sep))
  if (found)
    throw new DatasetFormatError(
      `the header is a single column with ${found[1]} in it: this looks like a file separated by ${found[1]}, ` +
        'but CSV here is comma-separated; save it with commas (or as JSON lines) and publish that',
    )
}

async function parseCsv(
  source: AsyncIterable<Uint8Array>,
  limits: DatasetLimits,
  known?: ColumnSchema[],
): Promise<Dataset> {
  const reader = new CsvReader(limits.maxRecordBytes)
  // Fatal on invalid UTF-8: a GBK or Windows-1252 export decoded leniently turns every non-ASCII name
  // and value into U+FFFD, so 北京 and 上海 would silently count as one group.
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true, fatal: true })
  let offset = 0
  const records: string[][] = []
  let raw: RawColumns | undefined
  const take = () => {
    for (const record of records) {
      if (!raw) {
        if (!known) refuseOtherSeparator(record)
        raw = new RawColumns(checkNames(record, limits))
        continue
      }
      if (record.length !== raw.names.length) {
        throw new DatasetFormatError(
          `row ${raw.rows + 1} has ${record.length} fields, the header has ${raw.names.length}`,
        )
      }
      if (raw.rows >= limits.maxRows) throw new DatasetFormatError(`dataset has more than ${limits.maxRows} rows`)
      for (let i = 0; i < record.length; i++) raw.cells[i].push(record[i] === '' ? null : record[i])
    }
    records.length = 0
  }
  try {
    for await (const chunk of source) {
      const text = utf8Text(decoder, chunk, offset)
      offset += chunk.length
      // The decoder keeps at most a partial character of its own: the decrypted chunk can go now.
      wipe(chunk)
      reader.push(text, records)
      take()
    }
    reader.push(utf8Text(decoder, undefined, offset), records)
    reader.end(records)
    take()
  } catch (err) {
    // The reader's messages name a record number and a limit, never a field's value (plaintext), so the
    // publisher is told which record is wrong and how.
    if (err instanceof CsvSyntaxError)
      throw new DatasetFormatError(`not valid CSV: ${err.message}`, { cause: err, details: err.code })
    throw err
  }
  if (!raw) throw new DatasetFormatError('CSV has no header row')
  // As for JSON lines: a dataset with nothing in it is nothing to sell computation on (its DP row count
  // would still show noise, so a listing could not tell).
  if (raw.rows === 0) throw new DatasetFormatError('CSV has a header but no rows')
  return finish(raw, known)
}

async function parseJsonLines(
  source: AsyncIterable<Uint8Array>,
  limits: DatasetLimits,
  known?: ColumnSchema[],
): Promise<Dataset> {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let raw: RawColumns | undefined
  const index = new Map<string, number>()
  let carry = ''
  let line = 0
  const onLine = (text: string) => {
    line++
    if (text.trim() === '') return
    let obj: unknown
    try {
      obj = JSON.parse(text)
    } catch (cause) {
      throw new DatasetFormatError(`line ${line} is not valid JSON`, { cause })
    }
    if (typeof obj !== 'object' || obj === null || Array.isArray(obj))
      throw new DatasetFormatError(`line ${line} is not a JSON object`)
    if (!raw) raw = new RawColumns([])
    const rows = raw.rows
    if (rows >= limits.maxRows) throw new DatasetFormatError(`dataset has more than ${limits.maxRows} rows`)
    for (const [k, v] of Object.entries(obj)) {
      let col = index.get(k)
      if (col === undefined) {
        col = raw.names.length
        checkNames([...raw.names, k], limits)
        raw.names.push(k)
        raw.cells.push(new Array<string | null>(rows).fill(null))
        index.set(k, col)
      }
      if (v !== null && typeof v === 'object')
        throw new DatasetFormatError(`line ${line}: nested value in "${k}" is not supported`)
      raw.cells[col].push(v === null ? null : String(v))
    }
    for (const cells of raw.cells) if (cells.length === rows) cells.push(null)
  }
  try {
    for await (const chunk of source) {
      const text = carry + decoder.decode(chunk, { stream: true })
      wipe(chunk)
      let start = 0
      for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
        onLine(text.slice(start, nl))
        start = nl + 1
      }
      carry = text.slice(start)
      if (carry.length > limits.maxRecordBytes)
        throw new DatasetFormatError(`line ${line + 1} exceeds ${limits.maxRecordBytes} bytes`)
    }
    carry += decoder.decode()
  } catch (err) {
    if (err instanceof EnclaveError) throw err
    throw new DatasetFormatError('not valid UTF-8 JSON lines', { cause: err })
  }
  if (carry.trim() !== '') onLine(carry)
  if (!raw || raw.names.length === 0) throw new DatasetFormatError('JSON lines dataset has no rows')
  if (known) {
    // JSON objects carry names, not positions: reorder to the recorded schema.
    const order = known.map((c) => {
      const i = raw!.names.indexOf(c.name)
      if (i < 0) throw new DatasetFormatError('dataset columns differ from the schema recorded at ingest')
      return i
    })
    if (order.length !== raw.names.length)
      throw new DatasetFormatError('dataset columns differ from the schema recorded at ingest')
    const reordered = new RawColumns(known.map((c) => c.name))
    order.forEach((from, to) => (reordered.cells[to] = raw!.cells[from]))
    return finish(reordered, known)
  }
  return finish(raw)
}

/**
 * Parses a plaintext stream into a columnar dataset. With `known`, column names and types must
 * match the schema recorded at ingest (so a query never sees a type that changed).
 */
export async function parseDataset(
  format: DatasetFormat,
  source: ByteSource,
  opts: { limits?: Partial<DatasetLimits>; schema?: ColumnSchema[] } = {},
): Promise<Dataset> {
  const limits = { ...DEFAULT_DATASET_LIMITS, ...opts.limits }
  const it = iterateBytes(source)
  if (format === 'csv') return parseCsv(it, limits, opts.schema)
  if (format === 'jsonl') return parseJsonLines(it, limits, opts.schema)
  throw new DatasetFormatError(`unsupported format ${String(format)}`, { details: 'supported: csv, jsonl' })
}

/** Drops references to column data (JS cannot zero strings; typed arrays are zeroed). */
export function wipeDataset(d: Dataset): void {
  for (const c of d.columns) {
    if ('values' in c) c.values.fill(0)
    else {
      c.codes.fill(0)
      c.dict.length = 0
    }
  }
  d.columns.length = 0
}
