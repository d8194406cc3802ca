// The host's disk: the SIMULATED platform secret and the sealed enclave state, both in dataDir.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { EnclaveError } from '../errors'
import type { SealedStore } from '../enclave/state'

export const PLATFORM_SECRET_FILE = 'platform-secret.SIMULATED.bin'
export const SEALED_STATE_FILE = 'enclave-state.sealed'

/**
 * Loads the SIMULATED platform secret (32 bytes), creating it on first start. On real hardware this
 * secret is fused into the CPU and never readable by the host; here the host can read it, which is
 * the central thing this simulation cannot guarantee (see README).
 */
export function loadOrCreatePlatformSecret(dataDir: string): Uint8Array {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, PLATFORM_SECRET_FILE)
  if (existsSync(path)) {
    const b = readFileSync(path)
    if (b.length !== 32)
      throw new EnclaveError(`${path} is not a 32-byte platform secret`, { details: 'setting: --data-dir' })
    return new Uint8Array(b)
  }
  const secret = new Uint8Array(randomBytes(32))
  writeFileSync(path, secret, { mode: 0o600, flag: 'wx' })
  return secret
}

/** Sealed state in one file, replaced atomically (write temp + rename). */
export function fileSealedStore(dataDir: string): SealedStore {
  const path = join(dataDir, SEALED_STATE_FILE)
  return {
    async read() {
      return existsSync(path) ? new Uint8Array(readFileSync(path)) : null
    },
    async write(sealed) {
      const tmp = `${path}.tmp`
      writeFileSync(tmp, sealed, { mode: 0o600 })
      renameSync(tmp, path)
    },
  }
}

/** In-memory store (tests). */
export function memorySealedStore(initial: Uint8Array | null = null): SealedStore & { current: Uint8Array | null } {
  const s = {
    current: initial,
    async read() {
      return s.current
    },
    async write(sealed: Uint8Array) {
      s.current = sealed
    },
  }
  return s
}
