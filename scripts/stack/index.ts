// The local marketplace, as a library: `npm start` and the end-to-end tests bring up the same processes
// in the same order — chain, contracts, IPFS, enclave, D1, site build, worker — and stop them together.
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { spawnSync } from 'node:child_process'
import { HDNodeWallet, JsonRpcProvider, Mnemonic, NonceManager, Wallet, type Provider } from 'ethers'
import {
  assertPortFree,
  fetchWithTimeout,
  freePort,
  spawnService,
  StackError,
  waitUntilReady,
  type Service,
} from './processes'

export { StackError, freePort } from './processes'

/** A full set of distinct free ports, for a second stack beside `npm start` (tests, benchmarks). */
export async function freePorts(): Promise<StackPorts> {
  const seen = new Set<number>()
  const one = async (): Promise<number> => {
    const p = await freePort()
    if (seen.has(p)) return one()
    seen.add(p)
    return p
  }
  return {
    chain: await one(),
    ipfsApi: await one(),
    ipfsGateway: await one(),
    enclave: await one(),
    worker: await one(),
    inspector: await one(),
  }
}

/** The well-known hardhat development accounts (public test keys; never use them on a real chain). */
export const DEV_KEYS = {
  admin: '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  relayer: '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  supervisor: '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  treasury: '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
} as const

/** Hardhat's public development mnemonic: its accounts exist only on local chains (chain id 31337). */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

/** Development account `index` (0–3 are admin, relayer, supervisor, treasury; 4 and up are users). */
export function devWallet(index: number, provider?: Provider): HDNodeWallet {
  const wallet = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`)
  return provider ? wallet.connect(provider) : wallet
}

export interface StackPorts {
  chain: number
  ipfsApi: number
  ipfsGateway: number
  enclave: number
  worker: number
  /**
   * Kept for callers that pass a full set of ports: the stack runs the worker without a DevTools
   * inspector (scripts/stack/worker-dev.ts explains why), so this port is no longer opened.
   */
  inspector: number
}

export const DEFAULT_PORTS: StackPorts = {
  chain: 8545,
  ipfsApi: 5001,
  ipfsGateway: 8080,
  enclave: 7100,
  worker: 8787,
  inspector: 9229,
}

export interface StackOptions {
  root: string
  dataDir: string
  ports: StackPorts
  host?: string
  /** Use this Kubo RPC URL instead of starting the embedded IPFS node. */
  ipfsApiUrl?: string
  /** How often to run the worker's scheduled handler (indexer, job sweeper); default 3 s. */
  cronIntervalMs?: number
  /** Progress lines for a person watching; one call per step. */
  log?: (line: string) => void
  /**
   * The chain URL the worker is given (CHAIN_RPC_URL) instead of the chain's own; the enclave and the
   * deployment still use the chain directly. Fault tests put a proxy they can take down here.
   */
  workerChainUrl?: string
  /** Extra worker variables (e.g. JOB_STALE_SECONDS), written to its env file after the stack's own. */
  workerEnv?: Record<string, string>
}

/** The children that can be stopped and started again while the rest keeps running (fault tests). */
export type RestartableService = 'enclave' | 'worker'

export interface StackUrls {
  site: string
  api: string
  chain: string
  ipfsApi: string
  ipfsGateway?: string
  enclave: string
}

export interface Stack {
  urls: StackUrls
  addressBook: AddressBookFile
  services: Service[]
  /** Stops every child process group; safe to call twice. */
  stop(): Promise<void>
  /** Resolves with the first service that exits on its own after start-up (not by stopService). */
  firstExit: Promise<{ name: string; code: number | null; logFile: string }>
  /**
   * Stops one child (its whole process group) and leaves the rest running, as a crash would; for fault
   * tests. The chain and IPFS cannot be stopped: hardhat keeps no state to come back with.
   */
  stopService(name: RestartableService): Promise<void>
  /** Starts a child stopped by stopService again with the same ports, state and settings; resolves when ready. */
  startService(name: RestartableService): Promise<void>
}

export interface AddressBookFile {
  chainId: number
  contracts: Record<string, string>
  deployedAtBlock: number
  /** Identifies this deployment: a dev chain restarted from genesis gets a new one. */
  deploymentId: string
  /** The enclave measurement the dev supervisor approved at deployment (this checkout's bundle). */
  approvedMeasurement: string
}

const bin = (root: string, name: string) => join(root, 'node_modules', '.bin', name)

export async function startStack(opts: StackOptions): Promise<Stack> {
  const host = opts.host ?? '127.0.0.1'
  const log = opts.log ?? (() => {})
  const { root, dataDir, ports } = opts
  const logDir = join(dataDir, 'logs')
  mkdirSync(logDir, { recursive: true })
  const services: Service[] = []
  // Children stopped on purpose by stopService: their exit is not a crash for firstExit.
  const stoppedOnPurpose = new Set<Service>()
  let reportExit!: (exit: { name: string; code: number | null; logFile: string }) => void
  const firstExit = new Promise<{ name: string; code: number | null; logFile: string }>((r) => (reportExit = r))
  const watch = (s: Service): Service => {
    s.exited.then((code) => {
      if (!stoppedOnPurpose.has(s)) reportExit({ name: s.name, code, logFile: s.logFile })
    })
    return s
  }
  let cron: ReturnType<typeof setInterval> | undefined
  const stop = async () => {
    clearInterval(cron)
    await Promise.all(
      services
        .splice(0)
        .reverse()
        .map((s) => s.stop()),
    )
  }

  try {
    // Fail before starting anything if a port is taken, naming the component that wanted it.
    const wanted: Array<[string, number]> = [
      ['chain', ports.chain],
      ['enclave', ports.enclave],
      ['worker', ports.worker],
    ]
    if (!opts.ipfsApiUrl) wanted.push(['ipfs api', ports.ipfsApi], ['ipfs gateway', ports.ipfsGateway])
    for (const [name, port] of wanted) await assertPortFree(name, host, port)

    const chainUrl = `http://${host}:${ports.chain}`
    const enclaveUrl = `http://${host}:${ports.enclave}`
    const workerUrl = `http://${host}:${ports.worker}`
    const nodeTs = (file: string) => [process.execPath, ['--import', 'tsx', join(root, file)]] as const

    // Independent of everything else: compile contracts and build the site while processes start.
    log('contracts: compiling (cached by source hash)')
    const { buildContracts } = await import('../../contracts/build')
    const built = buildContracts()
    const site = buildSite(root, dataDir)

    log(`chain: starting hardhat node on ${chainUrl}`)
    const chain = spawnService(
      'chain',
      bin(root, 'hardhat'),
      ['node', '--hostname', host, '--port', String(ports.chain)],
      {
        cwd: root,
        logDir,
      },
    )
    services.push(watch(chain))

    let ipfsApiUrl = opts.ipfsApiUrl
    let ipfsGatewayUrl: string | undefined
    let ipfs: Service | undefined
    // Signs the worker's upload tickets and lets the embedded node check them (ipfs/src/upload-ticket.ts):
    // large ciphertext goes from the client straight to IPFS, not through the worker. Fresh per start.
    const uploadTicketKey = opts.ipfsApiUrl ? undefined : randomBytes(32).toString('base64url')
    if (!ipfsApiUrl) {
      const [cmd, pre] = nodeTs('ipfs/src/cli.ts')
      ipfs = spawnService(
        'ipfs',
        cmd,
        [
          ...pre,
          '--repo',
          join(dataDir, 'ipfs'),
          '--host',
          host,
          '--api-port',
          String(ports.ipfsApi),
          '--gateway-port',
          String(ports.ipfsGateway),
          // Hourly: uploads that never became assets (abandoned or failed publishes) are removed a day on.
          '--gc-interval',
          '3600',
        ],
        { cwd: root, logDir, env: { IPFS_UPLOAD_TICKET_KEY: uploadTicketKey } },
      )
      services.push(watch(ipfs))
      ipfsApiUrl = `http://${host}:${ports.ipfsApi}`
      ipfsGatewayUrl = `http://${host}:${ports.ipfsGateway}`
    }

    const chainId = await waitUntilReady(chain, () => rpcChainId(chainUrl), 60_000)
    log(`chain: ready, chainId ${chainId}`)
    if (ipfs) {
      const url = ipfsApiUrl
      await waitUntilReady(
        ipfs,
        async () => ((await fetchWithTimeout(`${url}/api/v0/version`, { method: 'POST' })).ok ? true : undefined),
        30_000,
      )
      log(`ipfs: ready at ${ipfsApiUrl}`)
    }

    await built
    // tokenURI = base + id: the API serves each token's metadata JSON there (routes/token-metadata.ts).
    const addressBook = await deploy(root, dataDir, chainUrl, chainId, `${workerUrl}/api/metadata/`, log)
    const addressBookPath = join(dataDir, 'deployments', `${chainId}.json`)

    retireEnclaveStateOfOtherBuild(dataDir, addressBook.approvedMeasurement, log)
    const startEnclave = async (): Promise<string> => {
      const [ecmd, epre] = nodeTs('tee-sim/src/host.ts')
      const enclave = spawnService(
        'enclave',
        ecmd,
        [
          ...epre,
          ...['--host', host, '--port', String(ports.enclave), '--data-dir', join(dataDir, 'enclave')],
          ...['--rpc-url', chainUrl, '--address-book', addressBookPath],
        ],
        { cwd: root, logDir },
      )
      services.push(watch(enclave))
      return waitUntilReady(
        enclave,
        async () => {
          const res = await fetchWithTimeout(`${enclaveUrl}/health`)
          return res.ok ? ((await res.json()) as { measurement: string }).measurement : undefined
        },
        30_000,
      )
    }
    let measurement: string
    try {
      measurement = await startEnclave()
    } catch (err) {
      // State sealed by a build this stack has no record of: move it aside once and start fresh.
      if (!(err instanceof StackError) || !/sealed by another build/.test(err.reason)) throw err
      services.pop()
      retireEnclaveStateOfOtherBuild(dataDir, addressBook.approvedMeasurement, log, true)
      measurement = await startEnclave()
    }
    log(`enclave: ready, measurement ${measurement}`)
    await registerEnclave(chainUrl, addressBook, enclaveUrl, log)

    await site
    const wranglerState = join(dataDir, 'wrangler')
    resetIndexIfChainIsNew(wranglerState, dataDir, addressBook, log)
    log('d1: applying migrations')
    run(
      'd1',
      bin(root, 'wrangler'),
      ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', wranglerState],
      root,
      logDir,
    )

    const envFile = join(dataDir, 'worker.env')
    writeFileSync(
      envFile,
      [
        `CHAIN_RPC_URL=${opts.workerChainUrl ?? chainUrl}`,
        `ADDRESS_BOOK=${JSON.stringify(addressBook)}`,
        `IPFS_API_URL=${ipfsApiUrl}`,
        // The enclave reads job ciphertext straight from the gateway (else through the worker).
        ...(ipfsGatewayUrl ? [`IPFS_GATEWAY_URL=${ipfsGatewayUrl}`] : []),
        // Where clients PUT ciphertext with a ticket; unset (an external Kubo), uploads go through the worker.
        ...(ipfsGatewayUrl && uploadTicketKey
          ? [`IPFS_UPLOAD_URL=${ipfsGatewayUrl}/upload`, `UPLOAD_TICKET_KEY=${uploadTicketKey}`]
          : []),
        `ENCLAVE_URL=${enclaveUrl}`,
        // The relayer's key is a public hardhat development key: fine for a local chain only.
        `RELAYER_KEY=${DEV_KEYS.relayer}`,
        // A fresh admin token per start, for POST /api/audit/reindex (scripts/reindex.ts reads it here).
        `ADMIN_TOKEN=${randomBytes(24).toString('base64url')}`,
        ...Object.entries(opts.workerEnv ?? {}).map(([k, v]) => `${k}=${v}`),
      ].join('\n') + '\n',
    )
    log(`worker: starting workerd (wrangler's startWorker, inspector off) on ${workerUrl}`)
    const [wcmd, wpre] = nodeTs('scripts/stack/worker-dev.ts')
    const worker = spawnService(
      'worker',
      wcmd,
      [
        ...wpre,
        ...['--config', join(root, 'wrangler.toml'), '--host', host, '--port', String(ports.worker)],
        ...['--persist-to', wranglerState, '--env-file', envFile],
      ],
      { cwd: root, logDir },
    )
    services.push(watch(worker))
    await waitUntilReady(
      worker,
      async () => {
        const res = await fetchWithTimeout(`${workerUrl}/api/health`, {}, 5_000)
        const body = (await res.json()) as { ok: boolean; components: Record<string, { ok: boolean; reason?: string }> }
        if (body.ok) return true
        const down = Object.entries(body.components).filter(([, c]) => !c.ok)
        throw new Error(down.map(([n, c]) => `${n}: ${c.reason}`).join('; '))
      },
      90_000,
    )

    // Crons never fire by themselves under wrangler dev (stack-probe-2 §3): the indexer and the job
    // sweeper run when this calls the scheduled handler. One call at a time; a failure is only logged.
    let ticking = false
    cron = setInterval(() => {
      if (ticking) return
      ticking = true
      fetchWithTimeout(`${workerUrl}/__scheduled?cron=*+*+*+*+*`, {}, 30_000)
        .then((r) => r.body?.cancel())
        .catch(() => undefined)
        .finally(() => (ticking = false))
    }, opts.cronIntervalMs ?? 3_000)
    cron.unref()

    // A restart respawns the exact command line of the stopped child (same ports, state, env file) and
    // waits for the same health endpoint start-up waited for.
    const stopped = new Map<RestartableService, Service>()
    const healthUrl: Record<RestartableService, string> = {
      enclave: `${enclaveUrl}/health`,
      worker: `${workerUrl}/api/health`,
    }
    const stopService = async (name: RestartableService) => {
      const i = services.findIndex((s) => s.name === name)
      if (i < 0) throw new StackError(name, 'is not running')
      const [service] = services.splice(i, 1)
      stoppedOnPurpose.add(service)
      stopped.set(name, service)
      await service.stop()
    }
    const startService = async (name: RestartableService) => {
      const old = stopped.get(name)
      if (!old) throw new StackError(name, 'was not stopped by stopService')
      stopped.delete(name)
      const service = spawnService(name, old.child.spawnfile, old.child.spawnargs.slice(1), { cwd: root, logDir })
      services.push(watch(service))
      await waitUntilReady(
        service,
        async () => ((await fetchWithTimeout(healthUrl[name], {}, 5_000)).ok ? true : undefined),
        90_000,
      )
    }
    return {
      urls: {
        site: `${workerUrl}/`,
        api: `${workerUrl}/api`,
        chain: chainUrl,
        ipfsApi: ipfsApiUrl,
        ipfsGateway: ipfsGatewayUrl,
        enclave: enclaveUrl,
      },
      addressBook,
      services,
      stop,
      firstExit,
      stopService,
      startService,
    }
  } catch (err) {
    await stop()
    throw err
  }
}

/** eth_chainId over plain fetch: a readiness probe must not leave a provider retrying in the background. */
async function rpcChainId(url: string): Promise<number> {
  const res = await fetchWithTimeout(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
  })
  const body = (await res.json()) as { result?: string }
  if (!body.result) throw new Error('eth_chainId gave no result')
  return Number(body.result)
}

/** Runs a short command to completion, logging to a file; a failure names the component. */
function run(component: string, cmd: string, args: string[], cwd: string, logDir: string): void {
  const res = spawnSync(cmd, args, { cwd, env: process.env, encoding: 'utf8' })
  writeFileSync(join(logDir, `${component}.log`), `${res.stdout ?? ''}${res.stderr ?? ''}`)
  if (res.status !== 0) {
    throw new StackError(
      component,
      `\`${relative(cwd, cmd)} ${args.join(' ')}\` failed (exit ${res.status}):\n${(res.stderr || res.stdout || '').trim().split('\n').slice(-15).join('\n')}`,
    )
  }
}

/** Builds the Astro site unless its sources are unchanged since the last build (hash in .data). */
async function buildSite(root: string, dataDir: string): Promise<void> {
  const hash = hashTree(join(root, 'site'), ['dist', '.astro', 'node_modules'])
  const stamp = join(dataDir, 'site-build.hash')
  if (existsSync(join(root, 'site', 'dist', '_worker.js')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash)
    return
  const { spawn } = await import('node:child_process')
  await new Promise<void>((resolve, reject) => {
    const child = spawn(bin(root, 'astro'), ['build', '--root', 'site'], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (out += d))
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(
            new StackError(
              'site',
              `astro build failed (exit ${code}):\n${out.trim().split('\n').slice(-15).join('\n')}`,
            ),
          ),
    )
  })
  writeFileSync(stamp, hash)
}

/** SHA-256 over every file's path and bytes under `dir`, skipping `skip` folders. */
export function hashTree(dir: string, skip: string[] = []): string {
  const h = createHash('sha256')
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (skip.includes(name)) continue
      const p = join(d, name)
      if (statSync(p).isDirectory()) walk(p)
      else h.update(relative(dir, p)).update('\0').update(readFileSync(p)).update('\0')
    }
  }
  walk(dir)
  return h.digest('hex')
}

/**
 * Deploys the contracts from the development accounts and writes the address book for this chain id.
 * The supervisor approves the measurement of the enclave bundle in this checkout (`npm run measure`).
 */
async function deploy(
  root: string,
  dataDir: string,
  chainUrl: string,
  chainId: number,
  baseTokenURI: string,
  log: (l: string) => void,
): Promise<AddressBookFile> {
  const { deployStillflow } = await import('../../contracts/index')
  const { SIMULATED_VENDOR_ROOT_ADDRESS } = await import('../../tee-sim/src/index')
  const { computeMeasurement } = await import('../../tee-sim/src/platform/measurement')
  const provider = new JsonRpcProvider(chainUrl, chainId, { staticNetwork: true, batchMaxCount: 1 })
  const deployer = new NonceManager(new Wallet(DEV_KEYS.admin, provider))
  const addr = (k: string) => new Wallet(k).address
  const { measurement } = computeMeasurement({ repoRoot: root })
  const book = await deployStillflow(deployer, {
    admin: addr(DEV_KEYS.admin),
    relayer: addr(DEV_KEYS.relayer),
    supervisor: addr(DEV_KEYS.supervisor),
    treasury: addr(DEV_KEYS.treasury),
    vendorRoot: SIMULATED_VENDOR_ROOT_ADDRESS,
    platformFeeBps: 250,
    approvedMeasurements: [measurement],
    ledgerAnchor: true,
    psiComparator: true,
    baseTokenURI,
  })
  const block = await provider.getBlock(book.deployedAtBlock)
  const file: AddressBookFile = {
    ...book,
    deploymentId: `${chainId}:${block?.hash ?? 'unknown'}`,
    approvedMeasurement: measurement,
  }
  mkdirSync(join(dataDir, 'deployments'), { recursive: true })
  writeFileSync(join(dataDir, 'deployments', `${chainId}.json`), JSON.stringify(file, null, 2) + '\n')
  log(
    `contracts: deployed to chain ${chainId} (${Object.entries(book.contracts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})`,
  )
  provider.destroy()
  log(
    `contracts: enclave measurement ${measurement} approved at deployment by EnclaveRegistry's constructor; SIMULATED vendor root ${SIMULATED_VENDOR_ROOT_ADDRESS}`,
  )
  return file
}

/**
 * Registers the running enclave's signer in EnclaveRegistry from a fresh quote (R53): the relayer only
 * carries the vendor-signed quote; the contract checks the vendor root and the approved measurement.
 * The quote is verified here first so a bad enclave fails start-up with a clear reason.
 */
async function registerEnclave(
  chainUrl: string,
  book: AddressBookFile,
  enclaveUrl: string,
  log: (l: string) => void,
): Promise<void> {
  const { enclaveRegistryAbi } = await import('../../contracts/index')
  const { verifyQuote } = await import('../../tee-sim/src/index')
  const { Contract, hexlify, randomBytes } = await import('ethers')
  const nonce = hexlify(randomBytes(32))
  const res = await fetchWithTimeout(`${enclaveUrl}/attestation?nonce=${nonce}`)
  if (!res.ok) throw new StackError('enclave', `GET /attestation answered ${res.status}: ${await res.text()}`)
  const doc = (await res.json()) as { quote: Record<string, unknown>; vendorSignature: string }
  try {
    await verifyQuote(doc, { expectedNonce: nonce, expectedMeasurement: book.approvedMeasurement })
  } catch (err) {
    throw new StackError('enclave', `its quote does not verify: ${(err as Error).message}`)
  }
  const provider = new JsonRpcProvider(chainUrl, book.chainId, { staticNetwork: true, batchMaxCount: 1 })
  try {
    const relayer = new Wallet(DEV_KEYS.relayer, provider)
    const registry = new Contract(book.contracts.EnclaveRegistry, enclaveRegistryAbi, relayer)
    const signer = doc.quote.signer as string
    if ((await registry.enclaveMeasurement(signer)) === doc.quote.measurement) return
    await (await registry.registerEnclave(doc.quote, doc.vendorSignature)).wait()
    log(`enclave: signer ${signer} registered in EnclaveRegistry`)
  } catch (err) {
    throw new StackError(
      'enclave',
      `registering on chain failed: ${(err as { shortMessage?: string }).shortMessage ?? (err as Error).message}`,
    )
  } finally {
    provider.destroy()
  }
}

/**
 * Sealed state opens only for the build that sealed it (DESIGN §5). When this checkout's enclave bundle
 * differs from the one that sealed `.data/enclave`, that state is moved aside (never deleted) so the new
 * build starts with a fresh identity. A production upgrade would instead have the old enclave release its
 * keys to the attested new one.
 */
function retireEnclaveStateOfOtherBuild(
  dataDir: string,
  measurement: string,
  log: (l: string) => void,
  unknownBuild = false,
): void {
  const dir = join(dataDir, 'enclave')
  const marker = join(dataDir, 'enclave-measurement')
  const previous = unknownBuild
    ? '0xunknown-build'
    : existsSync(marker)
      ? readFileSync(marker, 'utf8').trim()
      : undefined
  if (previous && previous !== measurement && existsSync(dir)) {
    const aside = join(dataDir, `enclave-retired-${previous.slice(2, 14)}`)
    rmSync(aside, { recursive: true, force: true })
    renameSync(dir, aside)
    log(
      `enclave: the enclave code changed (measurement ${previous.slice(0, 14)}… → ${measurement.slice(0, 14)}…); its sealed state was moved to ${aside}`,
    )
  }
  writeFileSync(marker, measurement)
}

/**
 * The hardhat node keeps no state between runs, so each start is a new chain. D1 is an index of the
 * chain (R45–R46): an index of a chain that no longer exists is dropped, never shown. IPFS blocks and the
 * enclave's sealed state are kept.
 */
function resetIndexIfChainIsNew(
  wranglerState: string,
  dataDir: string,
  book: AddressBookFile,
  log: (l: string) => void,
): void {
  const marker = join(dataDir, 'indexed-deployment')
  const previous = existsSync(marker) ? readFileSync(marker, 'utf8') : undefined
  if (previous !== book.deploymentId) {
    if (previous !== undefined && existsSync(join(wranglerState, 'v3', 'd1'))) {
      log('d1: the chain was restarted from genesis; dropping the index of the old chain')
      rmSync(join(wranglerState, 'v3', 'd1'), { recursive: true, force: true })
    }
    writeFileSync(marker, book.deploymentId)
  }
}
