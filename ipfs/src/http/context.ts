// What every request handler is given: the repo and the node's limits.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Repo } from '../repo/repo'
import type { BlockBufferPool } from '../unixfs/file-reader'

export interface NodeContext {
  repo: Repo
  maxUploadBytes: number
  /** Garbage collection keeps packs written less than this long ago (repo/gc.ts). */
  gcGraceMs: number
  /** Called once for each failure that is not the client's fault. */
  log: (err: unknown) => void
}

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, ctx: NodeContext) => Promise<void>

/** A JSON answer as Kubo sends it: one document followed by a newline. */
export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body) + '\n')
}

/**
 * Streams `source` into `res` with backpressure, handing each chunk back to `pool` once the socket
 * has taken it. A failure of the source cuts the connection (a client must never take a truncated
 * body for a whole one) and is rethrown; a client that goes away ends it with
 * ERR_STREAM_PREMATURE_CLOSE, as `pipeline` would.
 */
export async function sendStream(
  res: ServerResponse,
  source: AsyncIterable<Uint8Array>,
  pool?: BlockBufferPool,
): Promise<void> {
  try {
    for await (const chunk of source) {
      if (res.destroyed) throw prematureClose()
      const more = pool ? res.write(chunk, () => pool.release(chunk)) : res.write(chunk)
      if (!more) await drained(res)
    }
    res.end()
  } catch (err) {
    res.destroy(err as Error)
    throw err
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (err?: Error) => {
      res.off('drain', onDrain)
      res.off('close', onClose)
      if (err) reject(err)
      else resolve()
    }
    const onDrain = () => settle()
    const onClose = () => settle(prematureClose())
    res.on('drain', onDrain)
    res.on('close', onClose)
  })
}

function prematureClose(): Error {
  return Object.assign(new Error('the client closed the connection'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })
}
