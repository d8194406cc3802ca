import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { afterAll, describe, expect, it } from 'vitest'
import { measureEnclave } from '../../tee-sim/src/index'
import { REPO_ROOT, computeMeasurement } from '../../tee-sim/src/platform/measurement'

const copy = mkdtempSync(join(tmpdir(), 'tee-measure-'))
cpSync(join(REPO_ROOT, 'tee-sim', 'src'), join(copy, 'tee-sim', 'src'), { recursive: true })
cpSync(join(REPO_ROOT, 'package-lock.json'), join(copy, 'package-lock.json'))
for (const f of ['index.ts', 'generated.ts', 'deploy.ts'])
  cpSync(join(REPO_ROOT, 'contracts', f), join(copy, 'contracts', f))
afterAll(() => rmSync(copy, { recursive: true, force: true }))

describe('measurement', () => {
  const here = computeMeasurement()

  it('is a 32-byte hex value covering enclave files and pinned dependencies, not the host or platform', () => {
    expect(here.measurement).toMatch(/^0x[0-9a-f]{64}$/)
    expect(here.files).toContain('tee-sim/src/enclave/enclave.ts')
    expect(here.files).toContain('tee-sim/src/chunked-aead.ts')
    expect(here.files).toContain('contracts/index.ts') // the EIP-712 shapes the enclave signs with
    expect(here.files.some((f) => f.startsWith('tee-sim/src/host'))).toBe(false)
    expect(here.files.some((f) => f.startsWith('tee-sim/src/platform'))).toBe(false)
    expect(here.dependencies.some((d) => d.startsWith('dep node-sql-parser@5.4.0 sha512-'))).toBe(true)
    expect([...here.files].sort()).toEqual(here.files)
  })

  it('is the same for an identical checkout elsewhere, and measureEnclave(root) agrees', async () => {
    expect(computeMeasurement({ repoRoot: copy }).measurement).toBe(here.measurement)
    expect(await measureEnclave(copy)).toBe(here.measurement)
    expect(await measureEnclave()).toBe(here.measurement)
  })

  it('ignores CRLF line ends but changes with any code change, a new file, or a dependency change', () => {
    const file = join(copy, 'tee-sim', 'src', 'enclave', 'runtime.ts')
    const original = readFileSync(file, 'utf8')
    writeFileSync(file, original.replace(/\n/g, '\r\n'))
    expect(computeMeasurement({ repoRoot: copy }).measurement).toBe(here.measurement)
    writeFileSync(file, original + ' ')
    expect(computeMeasurement({ repoRoot: copy }).measurement).not.toBe(here.measurement)
    writeFileSync(file, original)
    writeFileSync(join(copy, 'tee-sim', 'src', 'enclave', 'extra.ts'), 'export {}\n')
    expect(computeMeasurement({ repoRoot: copy }).measurement).not.toBe(here.measurement)
    rmSync(join(copy, 'tee-sim', 'src', 'enclave', 'extra.ts'))
    writeFileSync(join(copy, 'tee-sim', 'src', 'host', 'extra.ts'), 'export {}\n')
    expect(computeMeasurement({ repoRoot: copy }).measurement).toBe(here.measurement)
    const lock = readFileSync(join(copy, 'package-lock.json'), 'utf8')
    // node-sql-parser: a package the enclave code imports (measurement.ts, ENCLAVE_DEPENDENCIES).
    const bumped = lock.replace(
      /("node_modules\/node-sql-parser": \{\s*"version": ")5\.4\.0"/,
      (_, head: string) => `${head}5.4.1"`,
    )
    expect(bumped).not.toBe(lock)
    writeFileSync(join(copy, 'package-lock.json'), bumped)
    expect(computeMeasurement({ repoRoot: copy }).measurement).not.toBe(here.measurement)
    writeFileSync(join(copy, 'package-lock.json'), lock)
  })

  it('tee-sim/measure.ts prints the same value', () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'tee-sim', 'measure.ts')], {
      encoding: 'utf8',
    })
    expect(out.trim()).toBe(here.measurement)
  })
})
