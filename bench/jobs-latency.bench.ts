// End-to-end latency of a DP query over a 1M-row asset (issue 6), against the processes `npm start`
// runs: the buyer's whole path — sign, POST /api/jobs, queue, enclave, R2, receipt recorded on chain,
// poll, fetch, verify and decrypt — as a ratio to the enclave's own time for the same query (POST /jobs
// on the enclave host from this process: fetch the ciphertext from IPFS, unwrap, decrypt, verify, parse,
// query, release, seal, sign). Target ≤ 3×. The asset is published through the client library. Rounds
// interleave baseline and subject and keep the best of each (bench/lib.ts). Bounded: every step has a
// timeout and the stack is stopped at the end.
import { execFile } from 'node:child_process'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { JsonRpcProvider } from 'ethers'
import { devWallet, freePorts, startStack } from '../scripts/stack'
import {
  ApiClient,
  createJobRequest,
  generateResultKey,
  publish,
  runComputeJob,
  signJobRequest,
} from '../sdk/src/index'
import { fileSource, nodeHasher } from '../sdk/src/node/index'
import { bestOfInterleaved, type BenchResult } from './lib'

const ROWS = Number(process.env.BENCH_JOB_ROWS ?? 1_000_000)
const ROUNDS = Number(process.env.BENCH_JOB_ROUNDS ?? 3)
const GROUPS = 1000
const SQL = 'SELECT grp, COUNT(*) AS n, SUM(amount) AS total FROM data GROUP BY grp'
const OWNER = 17
const BUYER = 18
/** The buyer polls this often: the client's choice, kept small so it measures the system, not the poll. */
const POLL_MS = 100

async function writeCsv(path: string): Promise<void> {
  const out = createWriteStream(path)
  out.write('grp,amount,qty\n')
  for (let i = 0; i < ROWS; i += 10_000) {
    const lines: string[] = []
    for (let k = i; k < Math.min(ROWS, i + 10_000); k++)
      lines.push(`g${k % GROUPS},${((k * 7919) % 100000) / 100},${k % 13}`)
    if (!out.write(lines.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((r) => out.end(r))
}

export default async function run(): Promise<BenchResult[]> {
  const root = process.cwd()
  const dataDir = mkdtempSync(join(tmpdir(), 'stillflow-bench-job-latency-'))
  const stack = await startStack({ root, dataDir, ports: await freePorts() })
  const provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
  try {
    const api = new ApiClient({ apiUrl: stack.urls.api })
    const file = join(dataDir, 'rows.csv')
    await writeCsv(file)
    const published = await publish({
      api,
      signer: devWallet(OWNER, provider),
      source: fileSource(file),
      format: 'csv',
      declaration: { name: 'bench', lawfulBasis: { basis: 'owned', statement: 'bench', personalData: false } },
      enclave: { rpcUrl: stack.urls.chain },
      createHasher: nodeHasher,
    })
    const cli = async (args: string[]) => {
      const r = await promisify(execFile)(process.execPath, [join(root, 'cli/bin.mjs'), ...args, '--json'], {
        cwd: root,
        env: {
          ...process.env,
          STILLFLOW_API: stack.urls.api,
          STILLFLOW_RPC: stack.urls.chain,
          STILLFLOW_HOME: dataDir,
        },
      })
      return JSON.parse(r.stdout)
    }
    const offer = await cli([
      'offer',
      'create',
      published.tokenId,
      ...['--price', '0.001', '--jobs', String(4 * ROUNDS), '--epsilon', String(20 * ROUNDS)],
      ...['--dev-account', String(OWNER)],
    ])
    const { licenceId } = await cli(['buy', published.tokenId, offer.offerId, '--yes', '--dev-account', String(BUYER)])
    const buyer = devWallet(BUYER, provider)
    const market = { chainId: 31337, dataMarket: stack.addressBook.contracts.DataMarket }
    const ciphertextUrl = `${stack.urls.ipfsGateway}/ipfs/${published.ciphertextCid}`

    let groups = 0
    // Baseline: the enclave answering the same query itself (its receipt is never recorded, so it costs
    // the licence nothing on chain; the enclave counts it until the request's deadline passes).
    const enclaveMs = async () => {
      const request = createJobRequest({
        licenceId,
        contentHash: published.contentHash,
        query: SQL,
        resultPublicKey: generateResultKey().publicKey,
      })
      const signature = await signJobRequest(buyer, request, market)
      const start = performance.now()
      const res = await fetch(`${stack.urls.enclave}/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ request, signature, query: SQL, ciphertextUrl }),
        signal: AbortSignal.timeout(300_000),
      })
      const body = await res.text()
      const ms = performance.now() - start
      if (!res.ok) throw new Error(`the enclave refused the baseline job: ${res.status} ${body.slice(0, 300)}`)
      return ms
    }
    const endToEndMs = async () => {
      const start = performance.now()
      const out = await runComputeJob({
        api,
        signer: buyer,
        market,
        licenceId,
        contentHash: published.contentHash,
        query: SQL,
        computeLedger: stack.addressBook.contracts.ComputeLedger,
        expectedMeasurement: stack.addressBook.approvedMeasurement,
        intervalMs: POLL_MS,
        timeoutMs: 300_000,
      })
      const ms = performance.now() - start
      groups = out.result.rows.length
      return ms
    }
    const best = await bestOfInterleaved(enclaveMs, endToEndMs, ROUNDS, 'lower')
    const ratio = best.subject / best.baseline
    return [
      {
        name: `DP GROUP BY over ${ROWS.toLocaleString('en')} rows: submit → decrypted result`,
        baseline: "the enclave's own job time (POST /jobs on the host)",
        subject: 'buyer end to end (sign, submit, queue, enclave, R2, receipt on chain, poll, decrypt)',
        ratio,
        ratioMeaning: 'time',
        target: '≤ 3×',
        pass: ratio <= 3,
        details: {
          rows: ROWS,
          rounds: ROUNDS,
          enclaveBestMs: Math.round(best.baseline),
          endToEndBestMs: Math.round(best.subject),
          pollMs: POLL_MS,
          groupsReleased: groups,
        },
      },
    ]
  } finally {
    provider.destroy()
    await stack.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
