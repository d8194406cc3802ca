// The CLI's pins of each marketplace's EnclaveRegistry (cli/src/trusted-registry.ts): the owner's own
// address wins, a pin is kept per API in a file only the user can read, and a damaged file is never
// silently replaced (it is what protects the owner's data key).
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CliError, EXIT } from '../../cli/src/exit-codes'
import { pinRegistry, trustedRegistry } from '../../cli/src/trusted-registry'

const API = 'http://127.0.0.1:8787/api'
const REGISTRY = `0x${'ab'.repeat(20)}`
const home = () => mkdtempSync(join(tmpdir(), 'stillflow-registry-'))

describe('trusted EnclaveRegistry pins', () => {
  it('pins the first registry per API (mode 600) and holds every later publish to it', () => {
    const h = home()
    expect(trustedRegistry(h, API, undefined)).toEqual({ pinned: false })
    pinRegistry(h, API, REGISTRY)
    expect(statSync(join(h, 'trusted-registries.json')).mode & 0o777).toBe(0o600)
    expect(trustedRegistry(h, API, undefined)).toEqual({ registry: REGISTRY, pinned: true })
    // Another marketplace has its own pin.
    expect(trustedRegistry(h, 'http://other.example/api', undefined)).toEqual({ pinned: false })
  })

  it('takes the owner’s own address over the pin, and refuses one that is not an address', () => {
    const h = home()
    pinRegistry(h, API, REGISTRY)
    const mine = `0x${'cd'.repeat(20)}`
    expect(trustedRegistry(h, API, mine)).toEqual({ registry: mine, pinned: false })
    const bad = (() => {
      try {
        trustedRegistry(h, API, 'registry.eth')
      } catch (err) {
        return err
      }
    })()
    expect(bad).toBeInstanceOf(CliError)
    expect(bad).toMatchObject({ exitCode: EXIT.usage })
    // Naming it replaces the pin.
    pinRegistry(h, API, mine)
    expect(JSON.parse(readFileSync(join(h, 'trusted-registries.json'), 'utf8'))).toEqual({ [API]: mine })
  })

  it('stops on a damaged pin file instead of trusting whatever the API names', () => {
    const h = home()
    writeFileSync(join(h, 'trusted-registries.json'), '{ not json')
    expect(() => trustedRegistry(h, API, undefined)).toThrow(/not readable JSON/)
    expect(() => pinRegistry(h, API, REGISTRY)).toThrow(CliError)
    expect(readFileSync(join(h, 'trusted-registries.json'), 'utf8')).toBe('{ not json')
  })
})
