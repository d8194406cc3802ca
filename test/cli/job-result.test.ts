// `stillflow job result <jobId>` against a stand-in API, in its own process as a user's shell runs it: each
// way a stored job can end — still running past --timeout-seconds, Ctrl-C, failed, result deleted after
// retention, a result that does not verify, the API gone — gives its documented exit code and a message
// naming the job, keeps the result key exactly while a result may still be opened with it, and never prints
// the key. (The success path runs against the real stack: test/e2e/cli-job-result.test.ts.)
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { EXIT } from '../../cli/src/exit-codes'
import { resultKeyFile, saveResultKey } from '../../cli/src/result-keys'

const SECRET = '5e'.repeat(32)
const jobId = (n: number) => `0x${n.toString(16).padStart(64, '0')}`

/** What the stand-in API answers for a job: GET /api/jobs/:id and GET /api/jobs/:id/result. */
interface Script {
  view: Record<string, unknown>
  result?: { status: number; body: unknown }
}
const scripts = new Map<string, Script>()
const polled = new Map<string, number>()
let server: Server
let apiUrl: string
const home = join(mkdtempSync(join(tmpdir(), 'cli-job-result-')), 'stillflow')

function job(id: string, status: string, extra: Record<string, unknown> = {}) {
  return { jobId: id, status, deadline: 4_000_000_000, ...extra }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const m = /^\/api\/jobs\/(0x[0-9a-f]{64})(\/result)?$/.exec(req.url ?? '')
    const script = m && scripts.get(m[1])
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    if (!m || !script) return send(404, { error: { code: 'job_not_found', message: `no job ${m?.[1]}` } })
    polled.set(m[1], (polled.get(m[1]) ?? 0) + 1)
    if (m[2]) return send(script.result?.status ?? 500, script.result?.body ?? {})
    send(200, script.view)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  apiUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

/** Stores a key for `id` as `stillflow job` would have before submitting it to `api`. */
function store(id: string, api = apiUrl) {
  saveResultKey(home, {
    jobId: id,
    secretKey: `0x${SECRET}`,
    publicKey: `0x${'0b'.repeat(32)}`,
    apiUrl: api,
    chainId: 31337,
    computeLedger: `0x${'c0'.repeat(20)}`,
    deadline: 4_000_000_000,
    createdAt: 1_700_000_000,
  })
}

/** Runs the CLI; `interruptOnce` sends SIGINT once the stand-in API has seen `interruptOnce.id` polled. */
async function run(args: string[], interruptOnce?: { id: string }) {
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(process.cwd(), 'cli/bin.mjs'), ...args], {
      env: { ...process.env, STILLFLOW_HOME: home, STILLFLOW_API: 'http://127.0.0.1:9/api' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    const timer = interruptOnce
      ? setInterval(() => {
          if ((polled.get(interruptOnce.id) ?? 0) > 0) {
            clearInterval(timer)
            child.kill('SIGINT')
          }
        }, 50)
      : undefined
    child.on('exit', (code) => {
      clearInterval(timer)
      resolve({ code, stdout, stderr })
    })
  })
  expect(r.stdout + r.stderr).not.toContain(SECRET)
  return r
}

describe('stillflow job result', () => {
  describe('when this machine holds no key for the job', () => {
    it('says so with the usage code, and never asks the API', async () => {
      const id = jobId(1)
      scripts.set(id, { view: job(id, 'succeeded') })
      const r = await run(['job', 'result', id])
      expect(r.code).toBe(EXIT.usage)
      expect(r.stderr).toContain(`this machine holds no result key for job ${id}`)
      expect(polled.get(id)).toBeUndefined()
    })

    it('refuses what is not a job id, and a missing or extra argument', async () => {
      for (const args of [['0x12'], ['../session'], [], [jobId(1), jobId(2)]]) {
        const r = await run(['job', 'result', ...args])
        expect(r.code, args.join(' ')).toBe(EXIT.usage)
      }
    })
  })

  describe('when the job is still running', () => {
    it('--timeout-seconds 0: exits 5 naming the job and how to collect it, and keeps the key', async () => {
      const id = jobId(2)
      scripts.set(id, { view: job(id, 'running') })
      store(id)
      const r = await run(['job', 'result', id, '--timeout-seconds', '0'])
      expect(r.code).toBe(EXIT.pending)
      expect(r.stderr).toContain(`stopped waiting for job ${id}: job ${id} is still running`)
      expect(r.stderr).toContain(`collect its result later with: stillflow job result ${id}`)
      expect(existsSync(resultKeyFile(home, id))).toBe(true)
    })

    it('Ctrl-C: exits 130 naming the job, with the job id under error.details in --json, and keeps the key', async () => {
      const id = jobId(3)
      scripts.set(id, { view: job(id, 'queued') })
      store(id)
      const r = await run(['job', 'result', id, '--json'], { id })
      expect(r.code).toBe(EXIT.interrupted)
      expect(r.stderr).toContain(`interrupted; job ${id} carries on`)
      expect(JSON.parse(r.stdout)).toEqual({
        error: { message: expect.stringContaining(id), details: { jobId: id, collect: `stillflow job result ${id}` } },
      })
      expect(existsSync(resultKeyFile(home, id))).toBe(true)
    })

    it('a lost connection: exits 5 naming the API and the job, and keeps the key', async () => {
      const id = jobId(4)
      store(id, 'http://127.0.0.1:9/api')
      const r = await run(['job', 'result', id])
      expect(r.code).toBe(EXIT.pending)
      expect(r.stderr).toMatch(/the marketplace API at http:\/\/127\.0\.0\.1:9\/api could not be reached/)
      expect(r.stderr).toContain(`stillflow job result ${id}`)
      expect(existsSync(resultKeyFile(home, id))).toBe(true)
    })
  })

  describe('when there will never be a result', () => {
    it('a failed job: exits 3 with the API reason and forgets the key', async () => {
      const id = jobId(5)
      const reason = { code: 'enclave_unavailable', message: 'the enclave host is not reachable; nothing was charged' }
      scripts.set(id, { view: job(id, 'failed', { reason }) })
      store(id)
      const r = await run(['job', 'result', id, '--json'])
      expect(r.code).toBe(EXIT.rejected)
      expect(r.stderr).toContain(
        'job failed: the enclave host is not reachable; nothing was charged (enclave_unavailable)',
      )
      expect(JSON.parse(r.stdout).error.details).toMatchObject({ jobId: id, status: 'failed', reason })
      expect(existsSync(resultKeyFile(home, id))).toBe(false)
    })

    it('an expired job: exits 3 and forgets the key', async () => {
      const id = jobId(6)
      scripts.set(id, { view: job(id, 'expired', { reason: { code: 'deadline_passed', message: 'too late' } }) })
      store(id)
      const r = await run(['job', 'result', id])
      expect(r.code).toBe(EXIT.rejected)
      expect(r.stderr).toContain('job expired: too late (deadline_passed)')
      expect(existsSync(resultKeyFile(home, id))).toBe(false)
    })

    it('a result deleted after its retention: exits 3 saying so and forgets the key', async () => {
      const id = jobId(7)
      scripts.set(id, {
        view: job(id, 'succeeded'),
        result: {
          status: 410,
          body: { error: { code: 'result_deleted', message: `the result of job ${id} is past its retention` } },
        },
      })
      store(id)
      const r = await run(['job', 'result', id])
      expect(r.code).toBe(EXIT.rejected)
      expect(r.stderr).toContain(`the result of job ${id} is past its retention and was deleted`)
      expect(existsSync(resultKeyFile(home, id))).toBe(false)
    })
  })

  describe('when the API does not know the job or serves a result that does not verify', () => {
    it('an unknown job: exits 3 naming the API, and keeps the key', async () => {
      const id = jobId(8)
      store(id)
      const r = await run(['job', 'result', id])
      expect(r.code).toBe(EXIT.rejected)
      expect(r.stderr).toContain(`the marketplace at ${apiUrl} has no job ${id}`)
      expect(existsSync(resultKeyFile(home, id))).toBe(true)
    })

    it('a receipt that does not verify: exits 1 without opening anything, and keeps the key', async () => {
      const id = jobId(9)
      scripts.set(id, {
        view: job(id, 'succeeded'),
        result: {
          status: 200,
          body: {
            jobId: id,
            sealedResult: '0x00',
            resultHash: `0x${'00'.repeat(32)}`,
            receipt: { receipt: { jobId: id }, signature: '0x00' },
            txHash: null,
          },
        },
      })
      store(id)
      const r = await run(['job', 'result', id])
      expect(r.code).toBe(EXIT.failure)
      expect(r.stderr).toContain(`job ${id}: the job receipt does not verify, so it was not opened`)
      expect(r.stdout).toBe('')
      expect(existsSync(resultKeyFile(home, id))).toBe(true)
    })
  })
})
