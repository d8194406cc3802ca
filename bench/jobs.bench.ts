// Compute-job load on loopback (issue 6): BENCH_JOBS (default 200) job submissions fired at once under
// one licence, against the processes `npm start` runs. Checks that no job is lost or run twice (every job
// succeeds, the ledger holds exactly one JobRecorded per job, the licence lost exactly BENCH_JOBS jobs), and
// reports submission latency p50/p99 as a ratio to `GET /api/health` fired the same way in the same run
// (target p99 ≤ 5×). Bounded: it gives up after BENCH_JOBS_TIMEOUT_S (default 600) and stops the stack.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Contract, JsonRpcProvider } from 'ethers'
import { computeLedgerAbi, dataMarketAbi } from '../contracts/index'
import { devWallet, freePorts, startStack } from '../scripts/stack'
import {
  ApiClient,
  ApiRequestError,
  createJobRequest,
  generateResultKey,
  getJob,
  signJobRequest,
  submitJob,
} from '../sdk/src/index'
import type { BenchResult } from './lib'

const JOBS = Number(process.env.BENCH_JOBS ?? 200)
const TIMEOUT_S = Number(process.env.BENCH_JOBS_TIMEOUT_S ?? 600)
const QUERY = 'SELECT COUNT(*) AS n FROM data'

const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}

async function timedAll(n: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  return Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const start = performance.now()
      await fn(i)
      return performance.now() - start
    }),
  )
}

export default async function bench(): Promise<BenchResult[]> {
  const root = process.cwd()
  const dataDir = mkdtempSync(join(tmpdir(), 'stillflow-bench-jobs-'))
  const stack = await startStack({
    root,
    dataDir,
    ports: await freePorts(),
  })
  const provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
  try {
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
    const file = join(dataDir, 'bench.csv')
    writeFileSync(file, 'k,v\n' + Array.from({ length: 1000 }, (_, i) => `k${i % 7},${i % 97}`).join('\n') + '\n')
    const asset = await cli(['publish', file, '--title', 'bench', '--dev-account', '13'])
    const offer = await cli([
      'offer',
      'create',
      asset.tokenId,
      '--price',
      '0.001',
      '--jobs',
      String(JOBS),
      '--epsilon',
      String(JOBS),
      '--dev-account',
      '13',
    ])
    const { licenceId } = await cli(['buy', asset.tokenId, offer.offerId, '--yes', '--dev-account', '14'])

    const api = new ApiClient({ apiUrl: stack.urls.api })
    const buyer = devWallet(14)
    const market = { chainId: 31337, dataMarket: stack.addressBook.contracts.DataMarket }
    const deadline = Math.floor(Date.now() / 1000) + TIMEOUT_S
    const bodies = await Promise.all(
      Array.from({ length: JOBS }, async () => {
        const request = createJobRequest({
          licenceId,
          contentHash: asset.contentHash,
          query: QUERY,
          resultPublicKey: generateResultKey().publicKey,
          deadline,
        })
        return { request, signature: await signJobRequest(buyer, request, market), query: QUERY }
      }),
    )

    // Health answers 503 when a component is slow under this load; its latency is what is compared.
    const healthStatus: Record<number, number> = {}
    const health = await timedAll(JOBS, async () => {
      const res = await fetch(`${stack.urls.api}/health`)
      await res.arrayBuffer()
      healthStatus[res.status] = (healthStatus[res.status] ?? 0) + 1
    })
    const jobIds: string[] = []
    // A client retries a 503 (wrangler answers one when workerd restarts mid-request); a retry of a
    // request that did land is a 409 naming the job, since the job id is the request's digest.
    let retries = 0
    // What the retried 503s said (wrangler's own restart page, or the API's component_unavailable).
    const retryCodes: Record<string, number> = {}
    const submitOnce = async (i: number, left = 3): Promise<string> => {
      try {
        return (await submitJob(api, bodies[i])).jobId
      } catch (err) {
        if (err instanceof ApiRequestError && err.code === 'nonce_used' && left < 3)
          return (err.body as { error: { jobId: string } }).error.jobId
        if (!(err instanceof ApiRequestError) || err.status !== 503 || left === 0) throw err
        retries++
        retryCodes[err.code] = (retryCodes[err.code] ?? 0) + 1
        await new Promise((r) => setTimeout(r, 500))
        return submitOnce(i, left - 1)
      }
    }
    const submit = await timedAll(JOBS, async (i) => jobIds.push(await submitOnce(i)))

    const started = performance.now()
    const pending = new Set(jobIds)
    const statuses: Record<string, number> = {}
    // Why any job did not succeed, by reason code, with one message each: a miss must be explainable.
    const reasons: Record<string, string> = {}
    while (pending.size && performance.now() - started < TIMEOUT_S * 1000) {
      await new Promise((r) => setTimeout(r, 1000))
      for (const id of [...pending]) {
        const job = await getJob(api, id)
        if (job.status === 'queued' || job.status === 'running') continue
        pending.delete(id)
        statuses[job.status] = (statuses[job.status] ?? 0) + 1
        if (job.reason) reasons[`${job.status}:${job.reason.code}`] ??= job.reason.message.slice(0, 200)
      }
    }
    const drainS = (performance.now() - started) / 1000
    const ledger = new Contract(stack.addressBook.contracts.ComputeLedger, computeLedgerAbi, provider)
    const recorded = await ledger.queryFilter(ledger.filters.JobRecorded(null, BigInt(licenceId)))
    const distinct = new Set(recorded.map((e) => (e as unknown as { args: { jobId: string } }).args.jobId))
    const licence = await new Contract(market.dataMarket, dataMarketAbi, provider).licence(licenceId)
    const intact =
      pending.size === 0 &&
      statuses.succeeded === JOBS &&
      recorded.length === JOBS &&
      distinct.size === JOBS &&
      jobIds.every((id) => distinct.has(id)) &&
      Number(licence.jobsLeft) === 0

    const p50 = percentile(submit, 50) / percentile(health, 50)
    const p99 = percentile(submit, 99) / percentile(health, 99)
    const details = {
      jobs: JOBS,
      healthP50Ms: +percentile(health, 50).toFixed(1),
      healthP99Ms: +percentile(health, 99).toFixed(1),
      submitP50Ms: +percentile(submit, 50).toFixed(1),
      submitP99Ms: +percentile(submit, 99).toFixed(1),
      drainSeconds: +drainS.toFixed(1),
      jobsPerSecond: +(JOBS / drainS).toFixed(2),
      finished: JSON.stringify(statuses),
      reasons: JSON.stringify(reasons),
      healthStatuses: JSON.stringify(healthStatus),
      recordedOnChain: recorded.length,
      submitRetries: retries,
      submitRetryCodes: JSON.stringify(retryCodes),
      distinctRecorded: distinct.size,
    }
    return [
      {
        name: `${JOBS} concurrent job submissions: none lost, none run twice`,
        baseline: 'jobs submitted',
        subject: 'jobs succeeded and recorded exactly once',
        ratio: distinct.size / JOBS,
        ratioMeaning: 'throughput',
        target: '= 1 (and the licence spent exactly that many jobs)',
        pass: intact,
        details,
      },
      {
        name: 'job submission latency p50',
        baseline: 'GET /api/health p50 (same concurrency)',
        subject: 'POST /api/jobs p50',
        ratio: p50,
        ratioMeaning: 'time',
        target: 'reported',
        pass: true,
      },
      {
        name: 'job submission latency p99',
        baseline: 'GET /api/health p99 (same concurrency)',
        subject: 'POST /api/jobs p99',
        ratio: p99,
        ratioMeaning: 'time',
        target: '≤ 5×',
        pass: p99 <= 5,
      },
    ]
  } finally {
    provider.destroy()
    await stack.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
}
