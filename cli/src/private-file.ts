// Every file the CLI keeps for its user alone (the session, result keys, PSI transport keys, trusted
// registries) is written one way: into a directory only the user can enter (700), as a file only the user
// can read (600), through a fresh temporary file renamed into place — so a crash leaves the old file or the
// whole new one, and nothing is written through a file or link someone else put there.
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/** Writes `value` as indented JSON to `file` (mode 600), creating its directory (mode 700). */
export function writePrivateJson(file: string, value: unknown): void {
  const dir = dirname(file)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  chmodSync(dir, 0o700)
  const tmp = `${file}.${process.pid}.tmp`
  rmSync(tmp, { force: true })
  // 'wx': fail rather than write through a file (or a link) that appeared at the temporary name.
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600, flag: 'wx' })
  chmodSync(tmp, 0o600)
  renameSync(tmp, file)
}
