// A buyer who stops waiting for a job still gets the result they pay for, against the processes `npm start`
// runs: `stillflow job` keeps the job's result key (mode 600) before it submits and names the job as soon as
// the API accepts it; Ctrl-C or --timeout-seconds ends the command with the job id and the command that
// collects it; the job carries on, is recorded and charged, and `stillflow job result <jobId>` opens it —
// verified against the enclave's receipt like any result — then forgets the key. The command is stopped
// the moment it names the job, long before the enclave and the chain can have finished it (the exit codes
// asserted would differ if they had).
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, JsonRpcProvider } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeLedgerAbi, dataMarketAbi } from '../../contracts/index'
import { EXIT } from '../../cli/src/exit-codes'
import { resultKeyDir, resultKeyFile } from '../../cli/src/result-keys'
import { freePorts, startStack, type Stack } from '../../scripts/stack'
import { cliRunner, type CliRun } from '../support/cli'

const root = process.cwd()
const OWNER = 17
const BUYER = 18
const ROWS = 500
const QUERY = 'SELECT COUNT(*) AS n FROM data'

describe('stillflow job result: collecting a job the command stopped waiting for', () => {
  let stack: Stack
  let dataDir: string
  let home: string
  let provider: JsonRpcProvider
  let market: Contract
  let ledger: Contract
  let tokenId: string
  let licenceId: string

  const cli = (args: string[]) => cliRunner(root, () => stack, home)(args)
  const cliJson = async (args: string[]) => {
    const res = await cli([...args, '--json'])
    expect(res.code, res.stderr).toBe(0)
    return JSON.parse(res.stdout)
  }
  const jobsLeft = async () => Number((await market.licence(licenceId)).jobsLeft)

  /** `stillflow job …` in its own process; `jobId` resolves as soon as the command prints the accepted job. */
  function startJob(args: string[]) {
    const child = spawn(process.execPath, [join(root, 'cli/bin.mjs'), 'job', ...args], {
      cwd: root,
      env: { ...process.env, STILLFLOW_API: stack.urls.api, STILLFLOW_RPC: stack.urls.chain, STILLFLOW_HOME: home },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    const jobId = new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d
        const m = /job (0x[0-9a-f]{64}) submitted/.exec(stderr)
        if (m) resolve(m[1])
      })
      child.on('exit', () => reject(new Error(`the CLI ended without naming a job:\n${stderr}`)))
    })
    const done = new Promise<CliRun>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr })),
    )
    return { child, jobId, done }
  }

  function expectNoKeyIn(output: string, secretKey: string) {
    expect(output).not.toContain(secretKey.slice(2))
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-cli-job-result-'))
    home = join(dataDir, 'cli')
    stack = await startStack({ root, dataDir, ports: await freePorts() })
    provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
    market = new Contract(stack.addressBook.contracts.DataMarket, dataMarketAbi, provider)
    ledger = new Contract(stack.addressBook.contracts.ComputeLedger, computeLedgerAbi, provider)
    const file = join(dataDir, 'visits.csv')
    writeFileSync(
      file,
      ['region,visits', ...Array.from({ length: ROWS }, (_, i) => `r${i % 4},${(i * 11) % 40}`)].join('\n') + '\n',
    )
    const published = await cliJson([
      'publish',
      file,
      '--title',
      'Visits',
      '--dev-account',
      String(OWNER),
      '--price',
      '0.01',
      '--jobs',
      '10',
      '--epsilon',
      '10',
    ])
    tokenId = published.tokenId
    licenceId = (await cliJson(['buy', tokenId, '1', '--yes', '--dev-account', String(BUYER)])).licenceId
  }, 600_000)

  afterAll(async () => {
    provider?.destroy()
    await stack?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('Ctrl-C right after the job id appears: exit 130 naming the job; the job is charged and `job result` opens it', async () => {
    const before = await jobsLeft()
    const run = startJob([tokenId, QUERY, '--licence', licenceId, '--dev-account', String(BUYER), '--json'])
    const jobId = await run.jobId
    run.child.kill('SIGINT')
    const stopped = await run.done
    // The key was on disk before the job was submitted, readable by the user only.
    const file = resultKeyFile(home, jobId)
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(statSync(resultKeyDir(home)).mode & 0o777).toBe(0o700)
    const stored = JSON.parse(readFileSync(file, 'utf8')) as { jobId: string; secretKey: string }
    expect(stored.jobId).toBe(jobId)

    expect(stopped.code, stopped.stderr).toBe(EXIT.interrupted)
    expect(stopped.stderr).toContain(`interrupted; job ${jobId} carries on`)
    expect(stopped.stderr).toContain(`stillflow job result ${jobId}`)
    expect(JSON.parse(stopped.stdout)).toMatchObject({
      error: { details: { jobId, collect: `stillflow job result ${jobId}` } },
    })
    expectNoKeyIn(stopped.stdout + stopped.stderr, stored.secretKey)
    expect(existsSync(resultKeyFile(home, jobId))).toBe(true)

    const collected = await cli(['job', 'result', jobId, '--json'])
    expect(collected.code, collected.stderr).toBe(0)
    const out = JSON.parse(collected.stdout)
    expect(out).toMatchObject({ jobId, columns: ['n'], licenceId, privacy: { mode: expect.any(String) } })
    expect(Math.abs(Number(out.rows[0][0]) - ROWS)).toBeLessThan(60) // DP noise at ε = 1 is a few units
    expect(out.receipt.receipt.jobId).toBe(jobId)
    // The interrupted job ran once, was recorded on chain and charged to the licence.
    expect(await ledger.isJobRecorded(jobId)).toBe(true)
    const [event] = await ledger.queryFilter(ledger.filters.JobRecorded(jobId))
    expect(event.transactionHash).toBe(out.txHash)
    expect(before - (await jobsLeft())).toBe(1)
    expectNoKeyIn(collected.stdout + collected.stderr, stored.secretKey)

    // Opened once, the key is kept: the result opens again, the same rows, and nothing is charged again.
    expect(existsSync(resultKeyFile(home, jobId))).toBe(true)
    const again = await cli(['job', 'result', jobId, '--json'])
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ jobId, rows: out.rows, txHash: out.txHash })
    expect(before - (await jobsLeft())).toBe(1)
  })

  it('--timeout-seconds: exit 5 naming the job; `job result` later waits for it and prints the table', async () => {
    const before = await jobsLeft()
    const run = startJob([tokenId, QUERY, '--dev-account', String(BUYER), '--timeout-seconds', '0'])
    const jobId = await run.jobId
    const stopped = await run.done
    expect(stopped.code, stopped.stderr).toBe(EXIT.pending)
    expect(stopped.stderr).toMatch(
      new RegExp(`stopped waiting for job ${jobId}: job ${jobId} is still (queued|running)`),
    )
    expect(stopped.stderr).toContain(`collect its result later with: stillflow job result ${jobId}`)
    expect(stopped.stdout).toBe('')

    const collected = await cli(['job', 'result', jobId])
    expect(collected.code, collected.stderr).toBe(0)
    const [header, rule, row, ...rest] = collected.stdout.trimEnd().split('\n')
    expect([header, rule, rest]).toEqual(['n', expect.stringMatching(/^-+$/), []])
    expect(Math.abs(Number(row) - ROWS)).toBeLessThan(60)
    expect(collected.stderr).toMatch(new RegExp(`^job ${jobId}: ε [0-9.]+ on licence #${licenceId} .*receipt tx 0x`))
    expect(before - (await jobsLeft())).toBe(1)
    expect(existsSync(resultKeyFile(home, jobId))).toBe(true)
  })
})
