// `npm start`: bring up the marketplace on the default ports, print one line per component, and stop
// every child process group on Ctrl-C or when any component dies.
import { join } from 'node:path'
import { DEFAULT_PORTS, StackError, startStack, type StackPorts } from './stack'
import { publishDemoData } from './stack/demo'

const HELP = `usage: npm start [-- --data-dir DIR] [--no-demo]

Starts chain, contracts, IPFS, enclave, D1 and the worker (API + site) on 127.0.0.1.
Environment: IPFS_API_URL to use an existing Kubo instead of the embedded node;
STILLFLOW_PORT_<CHAIN|IPFS_API|IPFS_GATEWAY|ENCLAVE|WORKER|INSPECTOR> to move a port.`

function portsFromEnv(): StackPorts {
  const ports = { ...DEFAULT_PORTS }
  const keys: Record<keyof StackPorts, string> = {
    chain: 'CHAIN',
    ipfsApi: 'IPFS_API',
    ipfsGateway: 'IPFS_GATEWAY',
    enclave: 'ENCLAVE',
    worker: 'WORKER',
    inspector: 'INSPECTOR',
  }
  for (const [k, suffix] of Object.entries(keys) as Array<[keyof StackPorts, string]>) {
    const raw = process.env[`STILLFLOW_PORT_${suffix}`]
    if (raw === undefined) continue
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new StackError('config', `STILLFLOW_PORT_${suffix}=${raw} is not a port number`)
    }
    ports[k] = n
  }
  return ports
}

export async function main(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP)
    return
  }
  const dirFlag = argv.indexOf('--data-dir')
  const dataDir = dirFlag >= 0 ? argv[dirFlag + 1] : join(process.cwd(), '.data')
  const started = Date.now()
  let stopping = false
  let stack: Awaited<ReturnType<typeof startStack>> | undefined

  const shutdown = async (code: number) => {
    if (stopping) return
    stopping = true
    console.log('stillflow: stopping…')
    await stack?.stop()
    process.exit(code)
  }
  process.on('SIGINT', () => void shutdown(0))
  process.on('SIGTERM', () => void shutdown(0))

  try {
    stack = await startStack({
      root: process.cwd(),
      dataDir,
      ports: portsFromEnv(),
      ipfsApiUrl: process.env.IPFS_API_URL,
      log: (line) => console.log(`  · ${line}`),
    })
  } catch (err) {
    if (err instanceof StackError)
      console.error(`\nstillflow: ${err.component} failed to start: ${err.reason}\nNothing is left running.`)
    else console.error('\nstillflow: start-up failed:', err)
    process.exit(1)
  }
  if (stopping) return
  if (!argv.includes('--no-demo')) {
    try {
      await publishDemoData({
        apiUrl: stack.urls.api,
        chainUrl: stack.urls.chain,
        dataDir,
        log: (line) => console.log(`  · ${line}`),
      })
    } catch (err) {
      console.error(`  · demo: publishing the demo datasets failed: ${(err as Error).message}`)
    }
  }
  const u = stack.urls
  console.log(`\nStillflow is up in ${((Date.now() - started) / 1000).toFixed(1)} s (logs in ${join(dataDir, 'logs')})`)
  console.log(`  site      ${u.site}`)
  console.log(`  api       ${u.api}  (health: ${u.api}/health)`)
  console.log(`  chain     ${u.chain}  (chainId ${stack.addressBook.chainId})`)
  console.log(`  ipfs      ${u.ipfsApi}${u.ipfsGateway ? `  (gateway ${u.ipfsGateway})` : ''}`)
  console.log(`  enclave   ${u.enclave}`)
  console.log('Press Ctrl-C to stop.')

  const exit = await stack.firstExit
  if (stopping) return
  console.error(`\nstillflow: ${exit.name} exited (code ${exit.code}); see ${exit.logFile}. Stopping the rest.`)
  await shutdown(1)
}
