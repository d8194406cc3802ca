// ipfs/src/cli.ts as `npm start` runs it: one JSON line when listening, a named port when busy,
// a clean stop on SIGTERM and SIGINT.

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let repoRoot: string
beforeAll(async () => {
  repoRoot = await mkdtemp(join(tmpdir(), 'stillflow-ipfs-cli-'))
})
afterAll(async () => {
  await rm(repoRoot, { recursive: true, force: true })
})

function cli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'ipfs/src/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
}

async function output(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  let stdout = ''
  let stderr = ''
  child.stdout?.on('data', (d) => (stdout += d))
  child.stderr?.on('data', (d) => (stderr += d))
  const [code, signal] = (await once(child, 'exit')) as [number | null, string | null]
  return { code, signal, stdout, stderr }
}

async function firstLine(child: ChildProcess): Promise<string> {
  let text = ''
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    text += chunk
    if (text.includes('\n')) return text.slice(0, text.indexOf('\n'))
  }
  throw new Error('the CLI exited without printing a line')
}

async function busyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return { server, port: (server.address() as { port: number }).port }
}

describe('ipfs cli', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('prints {api, gateway} when listening and exits 0 on %s', async (signal) => {
    const child = cli(['--repo', join(repoRoot, signal), '--api-port', '0', '--gateway-port', '0'])
    const done = output(child)
    const line = JSON.parse(await firstLine(child)) as { api: string; gateway: string }
    expect(line.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(line.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const version = await fetch(`${line.api}/api/v0/version`, { method: 'POST' })
    expect(version.status).toBe(200)
    child.kill(signal)
    const { code, stderr } = await done
    expect(stderr).toBe('')
    expect(code).toBe(0)
  })

  it.each([
    ['api', '--api-port'],
    ['gateway', '--gateway-port'],
  ])('exits 1 naming the %s port when it is taken', async (role, flag) => {
    const { server, port } = await busyPort()
    try {
      const args = ['--repo', join(repoRoot, `busy-${role}`), '--api-port', '0', '--gateway-port', '0']
      args[args.indexOf(flag) + 1] = String(port)
      const { code, stdout, stderr } = await output(cli(args))
      expect(code).toBe(1)
      expect(stdout).toBe('')
      expect(stderr).toContain(`ipfs ${role} port ${port} on 127.0.0.1 is already in use`)
    } finally {
      server.close()
    }
  })

  it.each([
    [['--api-port', '0', '--gateway-port', '0'], /--repo is required/],
    [['--repo', 'x', '--gateway-port', '0'], /--api-port is required/],
    [['--repo', 'x', '--api-port', '99999', '--gateway-port', '0'], /--api-port must be a port number/],
    [['--repo', 'x', '--api-port', '0', '--gateway-port', '0', '--max-upload-bytes', '-5'], /--max-upload-bytes/],
    [['--repo', 'x', '--api-port', '0', '--gateway-port', '0', '--gc-interval', 'hourly'], /--gc-interval must be/],
    [['--repo', 'x', '--api-port', '0', '--gateway-port', '0', '--gc-grace', '1.5'], /--gc-grace must be/],
    [['--repo', 'x', '--bogus'], /Unknown option '--bogus'/],
  ])('exits 1 with a message for %j', async (args, message) => {
    const { code, stderr } = await output(cli(args))
    expect(code).toBe(1)
    expect(stderr).toMatch(message)
  })
})
