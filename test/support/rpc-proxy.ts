// A JSON-RPC proxy in front of the hardhat node for fault tests: it forwards every request unchanged
// until a trap fires on a chosen call, then takes the chain "down" — the listener closes and open
// connections are cut, so clients get connection refused exactly as from a dead node — until `up()`.
// hardhat 2 keeps no state across restarts, so this is how a chain outage can be had with state intact.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

export interface RpcCall {
  method: string
  params: unknown[]
}

/**
 * What to do with a call: `pass` forwards it; `refuse` cuts it before it reaches the chain and goes down;
 * `lose-answer` forwards it (the chain executes it) but cuts the answer and goes down.
 */
export type TrapAction = 'pass' | 'refuse' | 'lose-answer'

export interface RpcProxy {
  url: string
  /** Calls seen so far, in order (methods only). */
  readonly methods: string[]
  /** Decides per call; once it returns something other than `pass`, the proxy goes down and the trap is cleared. */
  trap(fn: (call: RpcCall) => TrapAction): Promise<void>
  /** Resolves when a trap fired and the proxy is down. */
  down(): Promise<void>
  /** Listens again on the same port. */
  up(): Promise<void>
  isUp(): boolean
  close(): Promise<void>
}

export async function startRpcProxy(target: string, host = '127.0.0.1'): Promise<RpcProxy> {
  const methods: string[] = []
  const sockets = new Set<Socket>()
  let trap: ((call: RpcCall) => TrapAction) | undefined
  let fired: () => void = () => {}
  let firedP = Promise.resolve()
  let server: Server | undefined
  let port = 0

  const goDown = async () => {
    const s = server
    server = undefined
    if (!s) return
    const closed = new Promise<void>((r) => s.close(() => r()))
    for (const sock of sockets) sock.destroy()
    await closed
    fired()
  }

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = []
    for await (const c of req) chunks.push(c as Buffer)
    const body = Buffer.concat(chunks)
    let action: TrapAction = 'pass'
    try {
      const parsed = JSON.parse(body.toString('utf8')) as RpcCall | RpcCall[]
      for (const call of Array.isArray(parsed) ? parsed : [parsed]) {
        methods.push(call.method)
        const a = trap?.(call) ?? 'pass'
        if (a !== 'pass') action = a
      }
    } catch {
      // not JSON: forward as is, the node answers the error
    }
    if (action === 'refuse') {
      trap = undefined
      req.socket.destroy()
      await goDown()
      return
    }
    let answer: Response
    try {
      answer = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    } catch {
      req.socket.destroy()
      return
    }
    const out = Buffer.from(await answer.arrayBuffer())
    if (action === 'lose-answer') {
      trap = undefined
      req.socket.destroy()
      await goDown()
      return
    }
    res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' })
    res.end(out)
  }

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((req, res) => void handle(req, res))
      s.on('connection', (sock) => {
        sockets.add(sock)
        sock.once('close', () => sockets.delete(sock))
      })
      s.once('error', reject)
      s.listen({ host, port }, () => {
        port = (s.address() as { port: number }).port
        server = s
        resolve()
      })
    })
  await listen()

  return {
    url: `http://${host}:${port}`,
    methods,
    async trap(fn) {
      firedP = new Promise<void>((r) => (fired = r))
      trap = fn
    },
    down: () => firedP,
    up: async () => {
      if (!server) await listen()
    },
    isUp: () => server !== undefined,
    close: goDown,
  }
}
