// Runs the real CLI (`cli/bin.mjs`) in its own process against a stack, as a user's shell would.
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Stack } from '../../scripts/stack'

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** A runner bound to one stack; the CLI's session file lives under `home`. */
export function cliRunner(root: string, stack: () => Stack, home: string): (args: string[]) => Promise<CliRun> {
  return (args) =>
    promisify(execFile)(process.execPath, [join(root, 'cli/bin.mjs'), ...args], {
      cwd: root,
      env: { ...process.env, STILLFLOW_API: stack().urls.api, STILLFLOW_RPC: stack().urls.chain, STILLFLOW_HOME: home },
      maxBuffer: 1 << 24,
    }).then(
      (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    )
}
