// A real chain and a real D1 for the indexer's node tests: a `hardhat node` on a free port (the indexer
// speaks JSON-RPC over HTTP to it, as in production), Stillflow deployed to it, and a Miniflare D1 with
// worker/migrations applied. The indexer and the routes run here in Node against those bindings.
process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = 'true'

import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Hono } from 'hono'
import { Miniflare } from 'miniflare'
import {
  Contract,
  JsonRpcProvider,
  keccak256,
  toUtf8Bytes,
  Wallet,
  type JsonRpcSigner,
  type TransactionResponse,
} from 'ethers'
import {
  computeLedgerAbi,
  dataAssetNftAbi,
  dataMarketAbi,
  deployStillflow,
  enclaveQuoteDomain,
  enclaveQuoteTypes,
  enclaveRegistryAbi,
  groupReceiptTypes,
  jobReceiptDomain,
  jobReceiptTypes,
  publishDomain,
  publishTypes,
  type AddressBook,
} from '../../contracts/index'
import type { D1Database, R2Bucket } from '@cloudflare/workers-types/experimental'
import { freePort } from '../../scripts/stack/processes'

const root = process.cwd()

/**
 * The worker's modules, loaded at run time. They are type-checked by worker/tsconfig.json against the
 * Workers runtime types, which clash with this Node program's DOM types, so tsc must not follow them
 * from here; these declarations are the slice of their API the tests use.
 */
const workerModule = (path: string): Promise<unknown> => import(/* @vite-ignore */ pathToFileURL(join(root, path)).href)

export type IndexerBindings = {
  DB: D1Database
  BLOBS: R2Bucket
  CHAIN_RPC_URL: string
  ADDRESS_BOOK: string
  [setting: string]: unknown
}
export interface IndexRun {
  chainId: number
  indexedBlock: number
  head: number
  events: number
  ranges: number
  reorgs: number
  caughtUp: boolean
  contended: boolean
  touchedTokens: string[]
}
export const indexer = (await workerModule('worker/src/indexer/index.ts')) as {
  indexNow(env: IndexerBindings, opts?: { maxRanges?: number }): Promise<IndexRun>
  reindex(env: IndexerBindings, opts?: { maxRanges?: number }): Promise<IndexRun>
  replayDerived(db: D1Database, chainId: number): Promise<void>
  jobIndexStatus(
    env: IndexerBindings,
    job: { jobId: string; chainId: number; status: string },
  ): Promise<'pending' | 'indexed' | 'failed'>
  runScheduled(
    env: IndexerBindings,
    scheduledTime: number,
  ): Promise<{ errors: string[]; anchor?: { anchored: boolean; txHash?: string } }>
}
type SubApp = Parameters<Hono['route']>[1]
const routes = async (path: string, name: string) => ((await workerModule(path)) as Record<string, SubApp>)[name]
const errors = (await workerModule('worker/src/errors.ts')) as {
  onError: Parameters<Hono['onError']>[0]
  notFound: Parameters<Hono['notFound']>[0]
}
/**
 * The indexer's routes composed as worker/src/index.ts composes them. (The whole worker also exports a
 * Durable Object from `cloudflare:workers`, which only workerd can load.)
 */
export const app = new Hono()
  .basePath('/api')
  .route('/assets', await routes('worker/src/routes/asset-history.ts', 'assetHistory'))
  .route('/audit', await routes('worker/src/routes/audit.ts', 'audit'))
  .route('/reports', await routes('worker/src/routes/reports.ts', 'reports'))
  .route('/reports', await routes('worker/src/routes/buyer-report.ts', 'buyerReport'))
  .onError(errors.onError)
  .notFound(errors.notFound) as unknown as {
  request(path: string, init: RequestInit, env: IndexerBindings): Promise<Response>
}
/** The derived tables (worker/src/indexer/derive.ts), compared row for row after a reindex. */
export const DERIVED_TABLES = [
  'assets',
  'offers',
  'licences',
  'receipts',
  'enclaves',
  'measurements',
  'market_settings',
  'payments',
  'anchors',
]
export const word = (label: string) => keccak256(toUtf8Bytes(label))
export const vendorKey = new Wallet(word('indexer test SIMULATED vendor root'))
export const enclaveKey = new Wallet(word('indexer test enclave signer'))
export const MEASUREMENT = word('indexer test enclave build')
export const ETH = 10n ** 18n

export interface Chain {
  url: string
  provider: JsonRpcProvider
  stop(): Promise<void>
}

/** Starts `hardhat node` on a free port in its own process group. */
export async function startChain(): Promise<Chain> {
  const port = await freePort()
  const child: ChildProcess = spawn(
    join(root, 'node_modules', '.bin', 'hardhat'),
    ['node', '--hostname', '127.0.0.1', '--port', String(port)],
    { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
  )
  let log = ''
  child.stdout!.on('data', (d) => (log += d))
  child.stderr!.on('data', (d) => (log += d))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
      })
      if (res.ok) break
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`hardhat node did not start:\n${log.slice(-2000)}`)
    await new Promise((r) => setTimeout(r, 200))
  }
  const provider = new JsonRpcProvider(url, 31337, {
    staticNetwork: true,
    cacheTimeout: -1,
    batchMaxCount: 1,
    pollingInterval: 50,
  })
  return {
    url,
    provider,
    async stop() {
      provider.destroy()
      const exited = new Promise((r) => child.once('exit', r))
      try {
        process.kill(-child.pid!, 'SIGTERM')
      } catch {
        return
      }
      await exited
    },
  }
}

export interface Db {
  mf: Miniflare
  db: D1Database
  dispose(): Promise<void>
}

/** A fresh D1 (in memory) with every migration of worker/migrations applied. */
export async function startDb(): Promise<Db> {
  const mf = new Miniflare({
    modules: true,
    script: 'export default { fetch() { return new Response(null, { status: 404 }) } }',
    compatibilityDate: '2026-04-01',
    d1Databases: ['DB'],
  })
  const db = (await mf.getD1Database('DB')) as unknown as D1Database
  await applyMigrations(db)
  return { mf, db, dispose: () => mf.dispose() }
}

/** Applies every migration of worker/migrations, in order, to `db`. */
export async function applyMigrations(db: D1Database): Promise<void> {
  const dir = join(root, 'worker', 'migrations')
  for (const f of readdirSync(dir)
    .filter((n) => n.endsWith('.sql'))
    .sort()) {
    const statements = readFileSync(join(dir, f), 'utf8')
      .split('--> statement-breakpoint')
      .map((s) => s.trim())
      .filter(Boolean)
    await db.batch(statements.map((s) => db.prepare(s)))
  }
}

export interface World {
  chain: Chain
  book: AddressBook
  signers: JsonRpcSigner[]
  deployer: JsonRpcSigner
  admin: JsonRpcSigner
  relayer: JsonRpcSigner
  supervisor: JsonRpcSigner
  treasury: JsonRpcSigner
  owner: JsonRpcSigner
  buyer: JsonRpcSigner
  other: JsonRpcSigner
  nft: Contract
  market: Contract
  registry: Contract
  ledger: Contract
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const as = (c: Contract, s: unknown): any => c.connect(s as never)

export async function mined(tx: Promise<TransactionResponse>) {
  const r = await (await tx).wait()
  if (!r || r.status !== 1) throw new Error('transaction failed')
  return r
}

/** Deploys Stillflow with accounts 0..8 and registers `enclaveKey` under the approved measurement. */
export async function deployWorld(chain: Chain): Promise<World> {
  const signers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => chain.provider.getSigner(i)))
  const [deployer, admin, relayer, supervisor, treasury, owner, buyer, other] = signers
  const book = await deployStillflow(deployer, {
    admin: admin.address,
    relayer: relayer.address,
    supervisor: supervisor.address,
    treasury: treasury.address,
    vendorRoot: vendorKey.address,
    platformFeeBps: 250,
    approvedMeasurements: [MEASUREMENT],
  })
  const p = chain.provider
  const w: World = {
    chain,
    book,
    signers,
    deployer,
    admin,
    relayer,
    supervisor,
    treasury,
    owner,
    buyer,
    other,
    nft: new Contract(book.contracts.DataAssetNFT, dataAssetNftAbi, p),
    market: new Contract(book.contracts.DataMarket, dataMarketAbi, p),
    registry: new Contract(book.contracts.EnclaveRegistry, enclaveRegistryAbi, p),
    ledger: new Contract(book.contracts.ComputeLedger, computeLedgerAbi, p),
  }
  const issuedAt = (await p.getBlock('latest'))!.timestamp
  const quote = {
    measurement: MEASUREMENT,
    signer: enclaveKey.address,
    clusterPublicKey: word('cluster key'),
    nonce: word(`nonce ${issuedAt}`),
    issuedAt,
  }
  const sig = await vendorKey.signTypedData(enclaveQuoteDomain, enclaveQuoteTypes, quote)
  await mined(as(w.registry, relayer).registerEnclave(quote, sig))
  return w
}

/** The bindings the indexer reads, for `world` on `db`. */
export function bindings(world: World, db: D1Database, extra: Partial<IndexerBindings> = {}): IndexerBindings {
  return {
    DB: db,
    BLOBS: undefined as unknown as R2Bucket,
    CHAIN_RPC_URL: world.chain.url,
    ADDRESS_BOOK: JSON.stringify(world.book),
    ...extra,
  }
}

/** Mints an asset for `owner` whose metadata digest is `metadataDigest` (default: a label hash). */
export async function mint(w: World, owner: JsonRpcSigner, label: string, metadataDigest = word(`metadata ${label}`)) {
  const msg = { owner: owner.address, contentHash: word(`content ${label}`), metadataDigest, deadline: 4_000_000_000 }
  const sig = await owner.signTypedData(publishDomain(w.book.chainId, w.book.contracts.DataAssetNFT), publishTypes, msg)
  const receipt = await mined(
    as(w.nft, w.relayer).mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig),
  )
  return { tokenId: (await w.nft.tokenIdOfContent(msg.contentHash)) as bigint, contentHash: msg.contentHash, receipt }
}

export async function offer(w: World, owner: JsonRpcSigner, tokenId: bigint, price = ETH) {
  await mined(
    as(w.market, owner).setOffer(tokenId, {
      price,
      currency: '0x0000000000000000000000000000000000000000',
      duration: 86_400,
      maxJobs: 3,
      epsilonBudgetMilli: 2_000,
      purposes: 1,
    }),
  )
  return (await w.market.offerCount(tokenId)) as bigint
}

export async function buy(w: World, buyer: JsonRpcSigner, tokenId: bigint, offerId: bigint, value = ETH) {
  await mined(as(w.market, buyer).buyLicence(tokenId, offerId, { value }))
  return (await w.market.licenceCount()) as bigint
}

/** An enclave-signed receipt for a job on `licenceId`, recorded through the relayer. */
export async function recordJob(
  w: World,
  licenceId: bigint,
  contentHash: string,
  label: string,
  epsilonSpentMilli = 500,
) {
  const receipt = {
    jobId: word(`job ${label}`),
    licenceId,
    contentHash,
    queryHash: word(`query ${label}`),
    resultHash: word(`result ${label}`),
    epsilonSpentMilli,
    measurement: MEASUREMENT,
  }
  const sig = await enclaveKey.signTypedData(
    jobReceiptDomain(w.book.chainId, w.book.contracts.ComputeLedger),
    jobReceiptTypes,
    receipt,
  )
  await mined(as(w.ledger, w.relayer).recordReceipt(receipt, sig))
  return { ...receipt, signature: sig }
}

/** An enclave-signed group receipt for one job across `parts` (R67), recorded through the relayer. */
export async function recordGroupJob(
  w: World,
  parts: Array<{ licenceId: bigint; contentHash: string; epsilonSpentMilli: number }>,
  label: string,
) {
  const receipt = {
    jobId: word(`job ${label}`),
    queryHash: word(`query ${label}`),
    resultHash: word(`result ${label}`),
    measurement: MEASUREMENT,
    parts,
  }
  const sig = await enclaveKey.signTypedData(
    jobReceiptDomain(w.book.chainId, w.book.contracts.ComputeLedger),
    groupReceiptTypes as unknown as Record<string, Array<{ name: string; type: string }>>,
    receipt,
  )
  const tx = await mined(as(w.ledger, w.relayer).recordGroupReceipt(receipt, sig))
  return { ...receipt, signature: sig, txHash: tx.hash }
}

/** Every row of `table`, in a stable order, for row-for-row comparison. */
export async function dump(db: D1Database, table: string): Promise<unknown[]> {
  const { results } = await db.prepare(`SELECT * FROM ${table}`).all<Record<string, unknown>>()
  return results.map((r) => JSON.stringify(r)).sort()
}

/** Tables whose rows belong to one asset, and the column naming it. */
const PER_ASSET = ['assets', 'offers', 'licences', 'receipts', 'payments']

/** Records (table, token) for every insert, update and delete on the per-asset tables. */
export async function recordWrites(db: D1Database) {
  await db.batch([
    db.prepare('CREATE TABLE touch_log (tbl TEXT NOT NULL, token TEXT)'),
    ...PER_ASSET.flatMap((t) =>
      (['INSERT', 'UPDATE', 'DELETE'] as const).map((op) =>
        db.prepare(
          `CREATE TRIGGER touch_${t}_${op.toLowerCase()} AFTER ${op} ON ${t} BEGIN
             INSERT INTO touch_log VALUES ('${t}', ${op === 'DELETE' ? 'old' : 'new'}.token_id); END`,
        ),
      ),
    ),
  ])
}
