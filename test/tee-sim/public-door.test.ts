import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import * as door from '../../tee-sim/src/index'
import { REPO_ROOT } from '../../tee-sim/src/platform/measurement'

describe('tee-sim/src/index.ts (the public door)', () => {
  it('bundles for the browser / workerd with no node: imports', () => {
    const dir = mkdtempSync(join(tmpdir(), 'door-'))
    try {
      const out = join(dir, 'door.js')
      execFileSync(join(REPO_ROOT, 'node_modules/.bin/esbuild'), [
        join(REPO_ROOT, 'tee-sim/src/index.ts'),
        '--bundle',
        '--platform=browser',
        '--format=esm',
        `--outfile=${out}`,
        '--log-level=error',
      ])
      const js = readFileSync(out, 'utf8')
      expect(js).not.toMatch(/from\s*["']node:|require\(["']node:/)
      expect(js).not.toContain('csv-parse')
      expect(js).not.toContain('SIMULATED TEE vendor root v1') // the vendor key is not shipped to clients
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('exports the client-side protocol', () => {
    for (const name of [
      'verifyQuote',
      'SimulatedVendorQuoteVerifier',
      'verifyReceipt',
      'verifyIngestReceipt',
      'encryptChunked',
      'decryptChunked',
      'wrapDataKey',
      'unwrapDataKey',
      'sealResult',
      'openResult',
      'typedDataDigest',
      'jobIdOf',
      'queryHashOf',
      'measureEnclave',
      'SIMULATED_VENDOR_ROOT_ADDRESS',
      'EnclaveError',
    ]) {
      expect(door, name).toHaveProperty(name)
    }
    expect(new door.BudgetExhaustedError('x')).toBeInstanceOf(door.EnclaveError)
    expect(new door.BudgetExhaustedError('x', { details: 'd' }).shortMessage).toBe('x')
  })
})
