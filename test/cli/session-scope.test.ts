// A saved session's bearer token goes only to the API it was made with: a command pointed at another API
// (--api, STILLFLOW_API) once sent it there, so any server a user was told to try could replay it. Two
// plain HTTP servers stand in for two marketplaces and record the Authorization headers they receive.
import { execFile } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getAddress } from 'ethers'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { EXIT } from '../../cli/src/exit-codes'

const ADDRESS = '0x' + 'ab'.repeat(20)
const TOKEN = 'session-token-of-marketplace-a'

interface Marketplace {
  url: string
  server: Server
  /** "METHOD path authorization" of every request. */
  seen: string[]
}

async function marketplace(): Promise<Marketplace> {
  const seen: string[] = []
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`)
    res.setHeader('content-type', 'application/json')
    if (req.url === '/api/auth/me') return res.end(JSON.stringify({ address: ADDRESS }))
    if (req.url === '/api/auth/logout') return res.end('{}')
    res.statusCode = 404
    res.end(JSON.stringify({ error: { code: 'not_found', message: 'no such route' } }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return { url: `http://127.0.0.1:${port}/api`, server, seen }
}

let a: Marketplace
let b: Marketplace
let home: string

beforeAll(async () => {
  ;[a, b] = await Promise.all([marketplace(), marketplace()])
})
afterAll(() => {
  a.server.close()
  b.server.close()
})
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'cli-session-'))
  const expiresAt = new Date(Date.now() + 3600_000).toISOString()
  // As `stillflow login` saves it after signing in to A (with a trailing slash the CLI would have trimmed).
  writeFileSync(
    join(home, 'session.json'),
    JSON.stringify({ apiUrl: `${a.url}/`, address: ADDRESS, token: TOKEN, expiresAt }),
  )
  a.seen.length = 0
  b.seen.length = 0
})

function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(process.cwd(), 'cli/bin.mjs'), ...args],
      { env: { ...process.env, STILLFLOW_API: '', ...env, STILLFLOW_HOME: home }, timeout: 60_000 },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr }),
    )
  })
}

describe('the CLI session', () => {
  it('is sent to the API it was made with', async () => {
    const r = await run(['whoami', '--api', a.url])
    expect(r.code, r.output).toBe(0)
    expect(r.output).toContain(getAddress(ADDRESS)) // checksummed, as login prints it
    expect(a.seen).toEqual([`GET /api/auth/me Bearer ${TOKEN}`])
  }, 90_000)

  it.each([
    ['--api', (m: Marketplace) => ({ args: ['--api', m.url], env: {} })],
    ['STILLFLOW_API', (m: Marketplace) => ({ args: [], env: { STILLFLOW_API: m.url } })],
  ])(
    'is never sent to another API named by %s: exit 4, saying where the session is',
    async (_, how) => {
      for (const command of ['whoami', 'assets']) {
        const { args, env } = how(b)
        const r = await run([command, ...args], env)
        expect(r.code, r.output).toBe(EXIT.auth)
        expect(r.output).toContain(`signed in to ${a.url}/, not to ${b.url}: run stillflow login --api ${b.url}`)
      }
      expect(b.seen).toEqual([])
      expect(a.seen).toEqual([])
    },
    90_000,
  )

  it('is ended at the API it was made with, even when logout is pointed elsewhere', async () => {
    const r = await run(['logout', '--api', b.url])
    expect(r.code, r.output).toBe(0)
    expect(b.seen).toEqual([])
    expect(a.seen).toEqual([`POST /api/auth/logout Bearer ${TOKEN}`])
    expect((await run(['whoami', '--api', a.url])).code).toBe(EXIT.auth)
  }, 90_000)
})
