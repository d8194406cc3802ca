// The only place that maps the node's errors to HTTP: Kubo's error body, with a status that says
// what went wrong (Kubo itself answers 500 for most failures; see the README's differences).

import type { ServerResponse } from 'node:http'
import { BlockNotFoundError, InvalidArgumentError, IpfsError, PinStateError, UploadTooLargeError } from '../errors'

/** Raised by the HTTP layer itself: wrong method or unknown route. */
export class HttpRouteError extends IpfsError {
  override name = 'HttpRouteError'
  constructor(
    readonly status: 404 | 405,
    message: string,
    readonly allow?: string,
  ) {
    super(message)
  }
}

// go-ipfs-cmds error.go: ErrNormal = 0, ErrClient = 1. The body is that package's Error marshalling.
const ERR_NORMAL = 0
const ERR_CLIENT = 1

export interface KuboErrorBody {
  Message: string
  Code: number
  Type: 'error'
}

export function statusOf(err: unknown): number {
  if (err instanceof HttpRouteError) return err.status
  if (err instanceof InvalidArgumentError || err instanceof PinStateError) return 400
  if (err instanceof BlockNotFoundError) return 404
  if (err instanceof UploadTooLargeError) return 413
  return 500
}

/**
 * Answers with a Kubo-shaped error, or, when the response has already started, cuts the
 * connection so the client sees a failure instead of a silently truncated body.
 *
 * @param log called once for errors that are not the client's fault.
 */
export function sendError(res: ServerResponse, err: unknown, log: (err: unknown) => void): void {
  const status = statusOf(err)
  if (status === 500) log(err)
  if (res.headersSent) {
    res.destroy()
    return
  }
  // Unknown errors keep their detail in the log; the client gets a stable sentence.
  const message = err instanceof IpfsError ? err.shortMessage : 'internal error'
  const body: KuboErrorBody = { Message: message, Code: status === 400 ? ERR_CLIENT : ERR_NORMAL, Type: 'error' }
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8' }
  if (err instanceof HttpRouteError && err.allow) headers.Allow = err.allow
  // A refused upload is not read to its end, so the connection cannot be reused.
  if (err instanceof UploadTooLargeError) headers.Connection = 'close'
  res.writeHead(status, headers).end(JSON.stringify(body) + '\n')
}
