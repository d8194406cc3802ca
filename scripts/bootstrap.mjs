// Makes a fresh clone runnable: installs node_modules when they are missing or older than the lockfile,
// and sets the switches that keep every tool quiet and offline. Uses only Node built-ins.
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** Telemetry and phone-home switches (DESIGN.md §2); children inherit them. */
export const quietEnv = {
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  ASTRO_TELEMETRY_DISABLED: '1',
  HARDHAT_DISABLE_TELEMETRY_PROMPT: 'true',
  NO_UPDATE_NOTIFIER: '1',
}
Object.assign(process.env, quietEnv)

export function ensureInstalled() {
  const lock = join(root, 'package-lock.json')
  const stamp = join(root, 'node_modules', '.stillflow-install')
  const want = createHash('sha256').update(readFileSync(lock)).digest('hex')
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return
  process.stdout.write('stillflow: installing dependencies (npm ci)…\n')
  const npm = (args) =>
    spawnSync('npm', [...args, '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit', env: process.env })
  let res = npm(['ci'])
  if (res.status !== 0) {
    // npm ci refuses a lockfile that lacks an optional platform package the registry no longer serves;
    // npm install resolves the same pinned tree and tolerates that.
    process.stdout.write('stillflow: npm ci failed; retrying with npm install\n')
    res = npm(['install'])
  }
  if (res.status !== 0) {
    process.stderr.write(`stillflow: installing dependencies failed with exit code ${res.status}\n`)
    process.exit(res.status ?? 1)
  }
  writeFileSync(stamp, want)
}

if (import.meta.url === `file://${process.argv[1]}`) ensureInstalled()
