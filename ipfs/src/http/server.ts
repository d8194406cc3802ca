// The HTTP shell around a handler: URL parsing, the one catch that turns failures into Kubo
// errors, and listening with a port-in-use error that names the port.

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { InvalidArgumentError, PortInUseError } from '../errors'
import type { Handler, NodeContext } from './context'
import { sendError } from './kubo-error'

// Errors that only mean the client hung up.
const DISCONNECTS = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
])

export function serve(handler: Handler, ctx: NodeContext): Server {
  // requestTimeout 0: a large upload over a slow link may legitimately take longer than Node's 5 min.
  const server = createServer({ requestTimeout: 0 }, (req, res) => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch (err) {
      // An absolute-form request target Node's parser let through, e.g. `GET http://[bad HTTP/1.1`.
      sendError(res, new InvalidArgumentError(`invalid request target "${req.url}"`, { cause: err }), ctx.log)
      return
    }
    handler(req, res, url, ctx).catch((err) => {
      // The client went away mid-request: there is nobody to answer and nothing to report.
      const gone = req.socket === null || req.socket.destroyed
      if (gone && (!res.headersSent || DISCONNECTS.has((err as NodeJS.ErrnoException).code ?? ''))) return
      if (!req.complete) {
        // Refused part-way through an upload: answer, then close instead of reading the rest.
        // Bytes that still arrive are discarded so the client can read the answer before the close.
        res.setHeader('Connection', 'close')
        req.resume()
      }
      sendError(res, err, ctx.log)
    })
  })
  // Requests Node cannot even parse (bad request line, oversized headers) never reach the handler.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    else socket.destroy()
  })
  return server
}

/** Listens and resolves with the bound port (the real one when `port` is 0). */
export function listen(server: Server, role: 'api' | 'gateway', host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new PortInUseError(role, host, port, err) : err)
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

export function shutdown(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve()
    server.close(() => resolve())
    // close() waits for open connections; keep-alive clients and streams in flight are cut.
    server.closeAllConnections()
  })
}

export function urlOf(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}
