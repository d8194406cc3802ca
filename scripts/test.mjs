// `npm test`: install what is missing, type-check, build what the tests serve, then run every vitest
// project. The last line printed is `N passed, N failed, N skipped` (from test/support/summary-reporter).
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { ensureInstalled, root } from './bootstrap.mjs'

ensureInstalled()
const bin = (name) => join(root, 'node_modules', '.bin', name)
const step = (label, cmd, args) => {
  process.stdout.write(`\n▶ ${label}\n`)
  const res = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: process.env })
  if (res.status !== 0) {
    process.stdout.write(`\n✕ ${label} failed (exit ${res.status})\n`)
    process.exit(res.status ?? 1)
  }
}

step('contracts: generated.ts is fresh', process.execPath, ['--import', 'tsx', 'contracts/build.ts', '--check'])
step('typecheck (node)', bin('tsc'), ['-p', 'tsconfig.json'])
step('typecheck (worker)', bin('tsc'), ['-p', 'worker/tsconfig.json'])
step('format', bin('prettier'), ['--check', '.', '--log-level', 'warn'])
step('site build', bin('astro'), ['build', '--root', 'site', '--silent'])
step('tests', bin('vitest'), ['run', ...process.argv.slice(2)])
