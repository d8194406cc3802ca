// PUT /upload: the ticketed uploader on the gateway listener — the one write a client (not the worker)
// may make. The body is the raw ciphertext (no multipart), streamed into the importer; its blocks become
// visible only if the bytes are exactly the ticket's size and hash to the ticket's CID (when it names
// one: a one-pass upload's ticket does not, and the answer says which CID arrived), and they are
// stored unpinned: the worker pins the CID once the owner's publish goes ahead, so an abandoned upload
// never holds a pin (see ../upload-ticket.ts for the whole flow).

import { appendFile, readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { replaceFile } from '../repo/replace-file'
import { openUploadTicket, UploadTicketError, type UploadTicket } from '../upload-ticket'
import { FileImporter } from '../unixfs/file-importer'
import { kuboDefaults } from '../unixfs/kubo-layout'
import type { NodeContext } from './context'

export const TICKET_HEADER = 'x-stillflow-ticket'

/** A refusal in the marketplace's error shape `{ error: { code, message } }` (not Kubo's: clients are SDKs). */
class UploadRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'PUT, OPTIONS',
  'Access-Control-Allow-Headers': `content-type, ${TICKET_HEADER}`,
  'Access-Control-Max-Age': '600',
}

/** In the repo directory: the ticket ids the uploader has taken (see SpentTickets). */
export const SPENT_TICKETS_FILE = 'spent-tickets.jsonl'

/**
 * Ticket ids seen, with their expiry; entries leave once a replay would fail as expired anyway. Kept in
 * a file in the repo (one JSON line per ticket, appended before the upload starts), so a restarted node
 * still refuses a ticket it has already taken; the file is rewritten without expired entries on open
 * and whenever it holds many more lines than live tickets.
 */
export class SpentTickets {
  private lines = 0

  private constructor(
    private readonly seen: Map<string, number>,
    private readonly file: string,
  ) {}

  /** The set kept in `file`; lines that do not parse (a write cut short by a crash) are skipped. */
  static async open(file: string, nowSeconds: number): Promise<SpentTickets> {
    const seen = new Map<string, number>()
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return ''
      throw err
    })
    for (const line of text.split('\n')) {
      try {
        const [id, exp] = JSON.parse(line) as unknown[]
        if (typeof id === 'string' && typeof exp === 'number' && exp > nowSeconds) seen.set(id, exp)
      } catch {
        // not a whole line: skipped
      }
    }
    const spent = new SpentTickets(seen, file)
    await spent.compact()
    return spent
  }

  /** Marks `ticket` used, on disk before this returns; false when it already was. */
  async spend(ticket: UploadTicket, nowSeconds: number): Promise<boolean> {
    for (const [id, exp] of this.seen) if (exp <= nowSeconds) this.seen.delete(id)
    if (this.seen.has(ticket.id)) return false
    this.seen.set(ticket.id, ticket.expiresAt)
    await appendFile(this.file, JSON.stringify([ticket.id, ticket.expiresAt]) + '\n')
    if (++this.lines > 2 * this.seen.size + 1000) await this.compact()
    return true
  }

  private async compact(): Promise<void> {
    const live = [...this.seen].map((entry) => JSON.stringify(entry) + '\n').join('')
    await replaceFile(this.file, live)
    this.lines = this.seen.size
  }
}

export interface UploadContext extends NodeContext {
  ticketKey: Uint8Array
  spent: SpentTickets
  now?: () => number
}

function send(res: ServerResponse, status: number, body: unknown, close = false): void {
  res
    .writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      ...CORS,
      ...(close ? { Connection: 'close' } : {}),
    })
    .end(JSON.stringify(body) + '\n')
}

async function admit(req: IncomingMessage, ctx: UploadContext): Promise<UploadTicket> {
  const token = req.headers[TICKET_HEADER]
  if (typeof token !== 'string' || !token) {
    throw new UploadRefused(401, 'ticket_required', `send the upload ticket in the ${TICKET_HEADER} header`)
  }
  const now = Math.floor((ctx.now ?? Date.now)() / 1000)
  let ticket: UploadTicket
  try {
    ticket = await openUploadTicket(ctx.ticketKey, token, now)
  } catch (err) {
    if (!(err instanceof UploadTicketError)) throw err
    if (err.problem === 'expired') throw new UploadRefused(410, 'ticket_expired', err.message)
    throw new UploadRefused(err.problem === 'malformed' ? 400 : 401, 'invalid_ticket', err.message)
  }
  if (ticket.size > ctx.maxUploadBytes) {
    throw new UploadRefused(413, 'upload_too_large', `this node accepts at most ${ctx.maxUploadBytes} bytes`)
  }
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) !== ticket.size) {
    throw new UploadRefused(
      Number(declared) > ticket.size ? 413 : 400,
      Number(declared) > ticket.size ? 'upload_too_large' : 'upload_truncated',
      `the ticket is for ${ticket.size} bytes; this request declares ${declared}`,
    )
  }
  // Spent before a byte is read: a ticket starts at most one upload, whatever its outcome.
  if (!(await ctx.spent.spend(ticket, now))) {
    throw new UploadRefused(
      409,
      'ticket_used',
      'this upload ticket was already used; ask the marketplace for a new one',
    )
  }
  return ticket
}

export async function upload(req: IncomingMessage, res: ServerResponse, ctx: UploadContext): Promise<void> {
  if (req.method === 'OPTIONS') {
    res.writeHead(204, CORS).end()
    return
  }
  const writer = ctx.repo.blocks.writer()
  let sealed = false
  try {
    if (req.method !== 'PUT') throw new UploadRefused(405, 'method_not_allowed', 'upload with PUT')
    const ticket = await admit(req, ctx)
    const importer = new FileImporter(writer, kuboDefaults(1))
    let bytes = 0
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      bytes += chunk.byteLength
      if (bytes > ticket.size) {
        throw new UploadRefused(413, 'upload_too_large', `the ticket is for ${ticket.size} bytes; more arrived`)
      }
      const wait = importer.write(chunk)
      if (wait) await wait
    }
    if (bytes < ticket.size) {
      throw new UploadRefused(400, 'upload_truncated', `the ticket is for ${ticket.size} bytes; ${bytes} arrived`)
    }
    const { cid } = await importer.end()
    if (ticket.cid !== null && cid.toString() !== ticket.cid) {
      throw new UploadRefused(
        422,
        'ciphertext_cid_mismatch',
        `the uploaded bytes have CID ${cid}, but the ticket (and the signed metadata) name ${ticket.cid}`,
      )
    }
    await writer.seal()
    sealed = true
    send(res, 201, { cid: cid.toString(), size: bytes })
  } catch (err) {
    if (!sealed) await writer.discard()
    if (!(err instanceof UploadRefused)) throw err
    if (req.socket === null || req.socket.destroyed) return
    // Refused part-way through: answer, then drop the rest of the body instead of reading it.
    const early = !req.complete
    if (early) req.resume()
    send(res, err.status, { error: { code: err.code, message: err.message } }, early)
  }
}
