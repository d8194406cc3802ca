// What every request handler is given: the repo and the node's limits.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Repo } from '../repo/repo'

export interface NodeContext {
  repo: Repo
  maxUploadBytes: number
  /** Called once for each failure that is not the client's fault. */
  log: (err: unknown) => void
}

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, ctx: NodeContext) => Promise<void>

/** A JSON answer as Kubo sends it: one document followed by a newline. */
export function sendJson(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(body) + '\n')
}
