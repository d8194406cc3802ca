// Compute jobs under faults, against the processes `npm start` runs (issue 6; R58, DESIGN §3 "Compute
// job" step 5: quota and ε are spent only by a recorded receipt). The worker reaches the chain through
// a JSON-RPC proxy the test can take down at the exact call it chooses; the enclave and the worker are
// stopped and started again with the stack's own process control. Each fault ends in one of two clean
// states — recorded exactly once and charged exactly once, or finished unpaid with a reason — never a
// second recording, a second charge, or a job left hanging.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, Interface, JsonRpcProvider, Transaction, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeLedgerAbi, dataMarketAbi } from '../../contracts/index'
import {
  ApiClient,
  ApiRequestError,
  createJobRequest,
  fetchJobResult,
  generateResultKey,
  getJob,
  JobNotSucceededError,
  openJobResult,
  signJobRequest,
  submitJob,
  waitForJob,
  type JobView,
  type MarketRef,
  type ResultKey,
} from '../../sdk/src/index'
import { signalGroup } from '../../scripts/stack/processes'
import { DEV_KEYS, devWallet, freePorts, startStack, type Stack } from '../../scripts/stack'
import { cliRunner } from '../support/cli'
import { startRpcProxy, type RpcCall, type RpcProxy } from '../support/rpc-proxy'

const root = process.cwd()
const OWNER = 15
const BUYER = 16
const QUERY = 'SELECT COUNT(*) AS n FROM data'
const ROWS = 400
/** The sweeper re-enqueues a live job this long without progress (production default: 120 s). */
const STALE_S = 8
/** worker/src/services/relayer.ts MINING_TIMEOUT_MS (not imported: it would pull workerd types into Node's). */
const MINING_TIMEOUT_MS = 60_000

const recordReceiptSelector = new Interface(computeLedgerAbi).getFunction('recordReceipt')!.selector
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(what: string, check: () => Promise<boolean>, ms = 120_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(250)) if (await check()) return
  throw new Error(`timed out waiting until ${what}`)
}

describe('compute jobs under faults', () => {
  let stack: Stack
  let proxy: RpcProxy
  let dataDir: string
  let provider: JsonRpcProvider
  let api: ApiClient
  let market: Contract
  let ledger: Contract
  let marketRef: MarketRef
  let tokenId: string
  let contentHash: string
  let licenceId: string

  const cliJson = async (args: string[]) => {
    const res = await cliRunner(root, () => stack, join(dataDir, 'cli'))([...args, '--json'])
    expect(res.code, res.stderr).toBe(0)
    return JSON.parse(res.stdout)
  }

  async function submit(opts: { deadline?: number } = {}): Promise<{ jobId: string; key: ResultKey }> {
    const key = generateResultKey()
    const request = createJobRequest({
      licenceId,
      contentHash,
      query: QUERY,
      resultPublicKey: key.publicKey,
      deadline: opts.deadline,
    })
    const signature = await signJobRequest(devWallet(BUYER, provider), request, marketRef)
    const accepted = await submitJob(api, { request, signature, query: QUERY })
    return { jobId: accepted.jobId, key }
  }

  async function licenceState() {
    const l = await market.licence(licenceId)
    return { jobsLeft: Number(l.jobsLeft), epsilonLeftMilli: Number(l.epsilonLeftMilli) }
  }

  /** JobRecorded events for this job id on chain (read directly, not through the proxy). */
  const recordings = (jobId: string) => ledger.queryFilter(ledger.filters.JobRecorded(jobId))

  async function finishedUnpaid(jobId: string): Promise<JobView> {
    const err = await waitForJob(api, jobId, { timeoutMs: 300_000 }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(JobNotSucceededError)
    return (err as JobNotSucceededError).job as JobView
  }

  /** The job succeeded, its receipt is on chain once, and the buyer's key opens a plausible count. */
  async function succeededOnce(jobId: string, key: ResultKey) {
    const job = await waitForJob(api, jobId, { timeoutMs: 300_000 })
    expect(job.status).toBe('succeeded')
    const events = await recordings(jobId)
    expect(events).toHaveLength(1)
    expect(job.receipt?.txHash).toBe(events[0].transactionHash)
    const sealed = await fetchJobResult(api, jobId)
    const result = await openJobResult(sealed, key.secretKey, {
      chainId: 31337,
      computeLedger: stack.addressBook.contracts.ComputeLedger,
      expectedMeasurement: stack.addressBook.approvedMeasurement,
    })
    expect(Math.abs(Number(result.rows[0][0]) - ROWS)).toBeLessThan(60)
    const receipt = sealed.receipt.receipt
    if (!('epsilonSpentMilli' in receipt)) throw new Error('expected a single-asset receipt')
    return { job, epsilonSpentMilli: receipt.epsilonSpentMilli }
  }

  const enclavePid = () => stack.services.find((s) => s.name === 'enclave')!.child.pid!

  const isRecordReceiptCall = (call: RpcCall) => {
    const tx = call.params[0] as { to?: string; data?: string; input?: string } | undefined
    return (
      call.method === 'eth_call' &&
      tx?.to?.toLowerCase() === stack.addressBook.contracts.ComputeLedger.toLowerCase() &&
      (tx.data ?? tx.input ?? '').startsWith(recordReceiptSelector)
    )
  }
  const isRecordReceiptSend = (call: RpcCall) => {
    if (call.method !== 'eth_sendRawTransaction') return false
    const tx = Transaction.from(call.params[0] as string)
    return tx.data.startsWith(recordReceiptSelector)
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-job-faults-'))
    const ports = await freePorts()
    proxy = await startRpcProxy(`http://127.0.0.1:${ports.chain}`)
    stack = await startStack({
      root,
      dataDir,
      ports,
      workerChainUrl: proxy.url,
      workerEnv: { JOB_STALE_SECONDS: String(STALE_S) },
    })
    provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
    api = new ApiClient({ apiUrl: stack.urls.api })
    market = new Contract(stack.addressBook.contracts.DataMarket, dataMarketAbi, provider)
    ledger = new Contract(stack.addressBook.contracts.ComputeLedger, computeLedgerAbi, provider)
    marketRef = { chainId: 31337, dataMarket: stack.addressBook.contracts.DataMarket }

    const file = join(dataDir, 'readings.csv')
    writeFileSync(
      file,
      ['sensor,value', ...Array.from({ length: ROWS }, (_, i) => `s${i % 5},${(i * 13) % 50}`)].join('\n') + '\n',
    )
    const published = await cliJson([
      'publish',
      file,
      '--title',
      'Fault readings',
      '--dev-account',
      String(OWNER),
      '--price',
      '0.01',
      '--jobs',
      '20',
      '--epsilon',
      '20',
    ])
    tokenId = published.tokenId
    contentHash = published.contentHash
    licenceId = (await cliJson(['buy', tokenId, '1', '--yes', '--dev-account', String(BUYER)])).licenceId
  }, 600_000)

  afterAll(async () => {
    provider?.destroy()
    await stack?.stop()
    await proxy?.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  describe('when the enclave is down', () => {
    it('jobs wait for it until their deadline: one whose deadline passes expires naming the enclave and costs nothing; one with time left runs once it is back', async () => {
      const before = await licenceState()
      await stack.stopService('enclave')
      let later: Awaited<ReturnType<typeof submit>>
      try {
        const soon = await submit({ deadline: Math.floor(Date.now() / 1000) + 40 })
        later = await submit()
        // While it waits, the job says what for.
        await until('the job names what it is waiting for', async () => {
          const job = await getJob(api, soon.jobId)
          return job.status === 'running' && job.retrying?.code === 'enclave_unavailable'
        })
        const job = await finishedUnpaid(soon.jobId)
        expect(job).toMatchObject({ status: 'expired', reason: { code: 'deadline_passed' } })
        expect(job).not.toHaveProperty('retrying')
        expect(job.reason?.message).toMatch(/enclave host is not reachable/)
        expect(job.reason?.message).not.toMatch(/127\.0\.0\.1|http:/) // a buyer is not told internal addresses
        expect(job.reason?.message).toMatch(/nothing was charged/)
        expect(await ledger.isJobRecorded(soon.jobId)).toBe(false)
        expect(await recordings(soon.jobId)).toHaveLength(0)
        expect(await licenceState()).toEqual(before)
        const res = await fetchJobResult(api, soon.jobId).catch((e: unknown) => e)
        expect(res).toBeInstanceOf(ApiRequestError)
        expect(res).toMatchObject({ status: 409, code: 'job_not_succeeded' })
        // The queue's own retries (max_retries 5 in wrangler.toml) run out after about a minute and the
        // message goes to the dead-letter queue: the job with time left stays live all the same.
        await until('the queue has used up its retries', async () => (await getJob(api, later.jobId)).attempts >= 6)
        await sleep(5_000)
        expect(await getJob(api, later.jobId)).toMatchObject({
          status: 'running',
          retrying: { code: 'enclave_unavailable' },
        })
      } finally {
        await stack.startService('enclave')
      }
      const { epsilonSpentMilli } = await succeededOnce(later.jobId, later.key)
      expect(await licenceState()).toEqual({
        jobsLeft: before.jobsLeft - 1,
        epsilonLeftMilli: before.epsilonLeftMilli - epsilonSpentMilli,
      })
    }, 400_000)
  })

  describe('when the chain goes down while the receipt is being recorded', () => {
    it('refused before it reached the chain: retried until the chain is back, then recorded once and charged once', async () => {
      const before = await licenceState()
      await proxy.trap((call) => (isRecordReceiptCall(call) ? 'refuse' : 'pass'))
      const { jobId, key } = await submit()
      await proxy.down()
      // The enclave has answered and the chain is unreachable: the job waits, it neither fails nor charges.
      await sleep(6_000)
      expect((await getJob(api, jobId)).status).toBe('running')
      expect(await ledger.isJobRecorded(jobId)).toBe(false)
      await proxy.up()
      const { epsilonSpentMilli } = await succeededOnce(jobId, key)
      expect(await licenceState()).toEqual({
        jobsLeft: before.jobsLeft - 1,
        epsilonLeftMilli: before.epsilonLeftMilli - epsilonSpentMilli,
      })
    }, 400_000)

    it('the transaction landed but its answer was lost: the retry finds it and never records it twice', async () => {
      const before = await licenceState()
      await proxy.trap((call) => (isRecordReceiptSend(call) ? 'lose-answer' : 'pass'))
      const { jobId, key } = await submit()
      await proxy.down()
      // The chain did record it; the worker does not know yet.
      expect(await ledger.isJobRecorded(jobId)).toBe(true)
      await sleep(6_000)
      expect((await getJob(api, jobId)).status).toBe('running')
      await proxy.up()
      const { epsilonSpentMilli } = await succeededOnce(jobId, key)
      expect(await licenceState()).toEqual({
        jobsLeft: before.jobsLeft - 1,
        epsilonLeftMilli: before.epsilonLeftMilli - epsilonSpentMilli,
      })
    }, 400_000)
  })

  describe('when the recording is still waiting to be mined at the deadline', () => {
    it('the job waits for it instead of expiring, then succeeds once: the buyer is never charged for a deleted result', async () => {
      const before = await licenceState()
      const relayer = new Wallet(DEV_KEYS.relayer).address
      const unmined = async () =>
        Number(await provider.send('eth_getTransactionCount', [relayer, 'pending'])) -
        Number(await provider.send('eth_getTransactionCount', [relayer, 'latest']))
      // The chain stops mining (a congested network): transactions wait in the mempool.
      await provider.send('evm_setAutomine', [false])
      let mining = false
      try {
        const deadline = Math.floor(Date.now() / 1000) + 20
        const { jobId, key } = await submit({ deadline })
        await until('the relayer sent the recording', async () => (await unmined()) > 0)
        // Past the deadline and past the worker's wait for mining: it came back to the job and must not
        // expire it, because the transaction it sent may still land.
        await sleep(Math.max(0, deadline * 1000 + MINING_TIMEOUT_MS + 15_000 - Date.now()))
        expect((await getJob(api, jobId)).status).toBe('running')
        expect(await ledger.isJobRecorded(jobId)).toBe(false)
        await provider.send('evm_setAutomine', [true])
        await provider.send('evm_mine', [])
        mining = true
        const { epsilonSpentMilli } = await succeededOnce(jobId, key)
        expect(await licenceState()).toEqual({
          jobsLeft: before.jobsLeft - 1,
          epsilonLeftMilli: before.epsilonLeftMilli - epsilonSpentMilli,
        })
      } finally {
        if (!mining) {
          await provider.send('evm_setAutomine', [true])
          await provider.send('evm_mine', [])
        }
      }
    }, 400_000)
  })

  describe('when the worker restarts mid-job', () => {
    /** Freezes the enclave so the job is caught running; returns a function that thaws it. */
    async function catchRunning(jobId: string): Promise<void> {
      for (let i = 0; i < 600; i++) {
        if ((await getJob(api, jobId)).status === 'running') return
        await sleep(100)
      }
      throw new Error(`job ${jobId} never started running`)
    }

    it('a job the enclave was running still finishes: it runs once, is recorded once and charged once', async () => {
      const before = await licenceState()
      signalGroup(enclavePid(), 'SIGSTOP')
      let thawed = false
      try {
        const { jobId, key } = await submit()
        await catchRunning(jobId)
        await stack.stopService('worker')
        signalGroup(enclavePid(), 'SIGCONT')
        thawed = true
        await stack.startService('worker')
        // The restarted worker lost the queue message; the sweeper re-enqueues the stale job and the
        // enclave answers the same job id with the same answer.
        const { epsilonSpentMilli } = await succeededOnce(jobId, key)
        expect(await licenceState()).toEqual({
          jobsLeft: before.jobsLeft - 1,
          epsilonLeftMilli: before.epsilonLeftMilli - epsilonSpentMilli,
        })
      } finally {
        if (!thawed) signalGroup(enclavePid(), 'SIGCONT')
      }
    }, 400_000)

    it('a job whose deadline passes while the worker is down expires cleanly and costs nothing', async () => {
      const before = await licenceState()
      signalGroup(enclavePid(), 'SIGSTOP')
      let thawed = false
      try {
        const deadline = Math.floor(Date.now() / 1000) + 15
        const { jobId } = await submit({ deadline })
        await catchRunning(jobId)
        await stack.stopService('worker')
        await sleep(Math.max(0, (deadline + 1) * 1000 - Date.now()))
        // The enclave wakes after the deadline: it refuses the request it was sent, charging nothing.
        signalGroup(enclavePid(), 'SIGCONT')
        thawed = true
        await stack.startService('worker')
        const job = await finishedUnpaid(jobId)
        expect(job).toMatchObject({ status: 'expired', reason: { code: 'deadline_passed' } })
        expect(job.reason?.message).toMatch(/nothing was charged/)
        expect(await recordings(jobId)).toHaveLength(0)
        expect(await licenceState()).toEqual(before)
      } finally {
        if (!thawed) signalGroup(enclavePid(), 'SIGCONT')
      }
    }, 400_000)
  })
})
