// The CLI against a chain or an API it cannot reach: a clear error and the right exit code, then it exits — no
// provider left retrying in the background (ethers' start-up loop once kept a finished command alive,
// printing "failed to detect network" every second).
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { EXIT } from '../../cli/src/exit-codes'

/** A port nothing listens on (9, discard, is one fetch refuses to try at all). */
const closedPort = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number }
    server.close(() => resolve(port))
  })
})
const nowhere = `http://127.0.0.1:${closedPort}`
const dir = mkdtempSync(join(tmpdir(), 'cli-unreachable-'))
const csv = join(dir, 'd.csv')
writeFileSync(csv, 'a,b\n1,2\n')

function run(args: string[]): Promise<{ code: number | null; signal: string | null; output: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [join(process.cwd(), 'cli/bin.mjs'), ...args],
      {
        // A command still running after this long is hung.
        env: { ...process.env, STILLFLOW_HOME: dir, STILLFLOW_API: `${nowhere}/api` },
        timeout: 60_000,
      },
      (_err, stdout, stderr) => resolve({ code: child.exitCode, signal: child.signalCode, output: stdout + stderr }),
    )
  })
}

describe('the CLI with nothing to reach', () => {
  it('names a key file it cannot read (the usage code), and warns of one others can read', async () => {
    const missing = await run(['publish', csv, '--title', 't', '--key-file', join(dir, 'nope'), '--rpc', nowhere])
    expect(missing.code).toBe(EXIT.usage)
    expect(missing.output).toContain(`cannot read --key-file ${join(dir, 'nope')}: no such file`)
    expect(missing.output).not.toMatch(/ENOENT/)
    const shared = join(dir, 'shared-key')
    writeFileSync(shared, `0x${'22'.repeat(32)}\n`, { mode: 0o644 })
    const r = await run(['publish', csv, '--title', 't', '--key-file', shared, '--rpc', nowhere])
    expect(r.output).toContain(`warning: ${shared} can be read by other users (mode 644); run chmod 600 ${shared}`)
  }, 90_000)

  it('says the chain cannot be reached (a failure, not a bad command line) and exits', async () => {
    const r = await run(['publish', csv, '--title', 't', '--dev-account', '2', '--rpc', nowhere])
    expect(r.signal).toBeNull() // finished by itself, not killed by the timeout
    expect(r.code).toBe(EXIT.failure)
    expect(r.output).toContain(`the chain at ${nowhere} could not be reached (--rpc, STILLFLOW_RPC)`)
    expect(r.output).not.toMatch(/JsonRpcProvider/)
  }, 90_000)

  it('names the API it cannot reach, with the system reason, and exits', async () => {
    const key = join(dir, 'key')
    writeFileSync(key, `0x${'11'.repeat(32)}\n`)
    const r = await run(['publish', csv, '--title', 't', '--key-file', key, '--rpc', nowhere])
    expect(r.signal).toBeNull()
    expect(r.code).toBe(EXIT.failure)
    expect(r.output).toContain(
      `the marketplace API at ${nowhere}/api could not be reached or did not answer (ECONNREFUSED)`,
    )
    expect(r.output).not.toMatch(/JsonRpcProvider/)
  }, 90_000)
})
