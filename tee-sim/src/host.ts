// The untrusted host process: measures the enclave bundle, boots the enclave on the SIMULATED
// platform with its sealed state from dataDir, and serves it over HTTP on node:http.
//
//   node --import tsx tee-sim/src/host.ts --port 7100 --host 127.0.0.1 --data-dir .data/enclave \
//        --rpc-url http://127.0.0.1:8545 --address-book .data/deployments/31337.json
//
// Prints one JSON line {"url","measurement"} when listening; exits non-zero naming the port on
// EADDRINUSE; stops on SIGINT/SIGTERM.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Enclave } from './enclave/enclave'
import { systemRuntime, type EnclaveRuntime } from './enclave/runtime'
import { HostChain, type ChainReaderFactory } from './host/chain'
import { ethersChainReaderFactory } from './host/ethers-chain-reader'
import { createHostApp, type HostLimits } from './host/app'
import { requestBody } from './host/request-body'
import { fileSealedStore, loadOrCreatePlatformSecret } from './host/files'
import { computeMeasurement } from './platform/measurement'
import { createSimulatedPlatform } from './platform/simulated-platform'
import { EnclaveError } from './errors'

export interface EnclaveHostOptions {
  host?: string
  port: number
  dataDir: string
  rpcUrl?: string
  addressBookPath?: string
  limits?: Partial<HostLimits>
  /** Tests inject time and randomness; production uses the system CSPRNG and clock. */
  runtime?: EnclaveRuntime
  /** Overrides how the ChainReader is built (tests); defaults to ethers with ABIs from contracts/. */
  chainReaderFactory?: ChainReaderFactory
  logError?: (message: string) => void
  /** How jobs' ciphertext URLs are fetched (tests); defaults to fetch() over http(s). */
  fetchCiphertext?: (url: string) => Promise<ReadableStream<Uint8Array>>
}

export interface EnclaveHost {
  url: string
  measurement: string
  enclave: Enclave
  close(): Promise<void>
}

/** Starts the host; `port: 0` picks a free port. */
export async function startEnclaveHost(opts: EnclaveHostOptions): Promise<EnclaveHost> {
  const host = opts.host ?? '127.0.0.1'
  const dataDir = resolve(opts.dataDir)
  const { measurement } = computeMeasurement()
  const platform = createSimulatedPlatform({ platformSecret: loadOrCreatePlatformSecret(dataDir), measurement })
  const chain = new HostChain(
    opts.rpcUrl,
    opts.addressBookPath && resolve(opts.addressBookPath),
    opts.chainReaderFactory ?? ethersChainReaderFactory,
  )
  const enclave = await Enclave.boot({
    platform,
    store: fileSealedStore(dataDir),
    runtime: opts.runtime ?? systemRuntime,
    chain: () => chain.reader(),
  })
  const { app } = createHostApp({
    enclave,
    chain,
    limits: opts.limits,
    fetchCiphertext: opts.fetchCiphertext,
    logError: opts.logError ?? ((m) => process.stderr.write(`enclave host: ${m}\n`)),
  })

  const server = createServer((req, res) => {
    void serve(app.fetch, req, res, host)
  })
  server.requestTimeout = 0 // large ingests stream for a long time; limits are enforced on bytes
  await new Promise<void>((ok, fail) => {
    server.once('error', fail)
    server.listen(opts.port, host, () => {
      server.off('error', fail)
      ok()
    })
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : opts.port
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
  return {
    url,
    measurement,
    enclave,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok())
        server.closeAllConnections()
      }),
  }
}

/** node:http → fetch Request → Hono → node:http, streaming both bodies. */
async function serve(
  fetchFn: (r: Request) => Response | Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  host: string,
): Promise<void> {
  const body = requestBody(req)
  try {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
    const request = new Request(`http://${req.headers.host ?? host}${req.url ?? '/'}`, {
      method: req.method,
      headers: req.headers as Record<string, string>,
      body: hasBody ? body.stream : undefined,
      ...(hasBody ? { duplex: 'half' } : {}),
    } as RequestInit)
    const response = await fetchFn(request)
    const headers: Record<string, string> = {}
    response.headers.forEach((v, k) => {
      headers[k] = v
    })
    res.writeHead(response.status, headers)
    if (response.body) {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) res.write(chunk)
    }
    res.end()
  } catch (err) {
    process.stderr.write(`enclave host: response failed: ${err instanceof Error ? err.message : String(err)}\n`)
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
    res.end(JSON.stringify({ error: { code: 'internal', message: 'internal enclave host error' } }))
  }
  // The answer is sent; what is left of the body is read and dropped (request-body.ts says why), and a
  // client that stopped sending mid-body is cut off there.
  body.drain()
}

function parseArgs(argv: string[]): EnclaveHostOptions {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const port = Number(get('port') ?? '7100')
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new EnclaveError('--port must be an integer in 0..65535')
  const dataDir = get('data-dir')
  if (!dataDir) throw new EnclaveError('--data-dir is required')
  return {
    host: get('host') ?? '127.0.0.1',
    port,
    dataDir,
    rpcUrl: get('rpc-url'),
    addressBookPath: get('address-book'),
  }
}

async function main(): Promise<void> {
  let opts: EnclaveHostOptions
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (err) {
    process.stderr.write(`enclave host: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(2)
  }
  let running: EnclaveHost
  try {
    running = await startEnclaveHost(opts)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EADDRINUSE')
      process.stderr.write(`enclave host: port ${opts.port} on ${opts.host} is already in use (EADDRINUSE)\n`)
    else process.stderr.write(`enclave host: failed to start: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exit(1)
  }
  process.stdout.write(`${JSON.stringify({ url: running.url, measurement: running.measurement })}\n`)
  const stop = () => {
    void running.close().then(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) void main()
