// Which EnclaveRegistry this machine trusts for a marketplace (R53). The owner's data key goes only to an
// enclave whose build that registry approves, and the API names the registry: an operator could name one
// it deployed itself, approving any build. So the address comes from the owner's side — `--registry` or
// STILLFLOW_REGISTRY — or is pinned the first time a publish through that API succeeds (trust on first use,
// as SSH does with host keys), in `<home>/trusted-registries.json`. An API that later names another
// registry is refused until the owner names the new one with --registry.
import { isAddress } from 'ethers'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { CliError, EXIT } from './exit-codes'
import { writePrivateJson } from './private-file'

/** API URL → EnclaveRegistry address. */
type Pins = Record<string, string>

const FILE = 'trusted-registries.json'

function read(home: string): Pins {
  const file = join(home, FILE)
  if (!existsSync(file)) return {}
  try {
    const pins = JSON.parse(readFileSync(file, 'utf8')) as unknown
    if (typeof pins === 'object' && pins !== null && !Array.isArray(pins)) return pins as Pins
  } catch {
    // fall through: a damaged file is not silently replaced, since it is what protects the owner
  }
  throw new CliError(
    EXIT.failure,
    `${file} is not readable JSON; fix or delete it (it pins each API's EnclaveRegistry)`,
  )
}

/**
 * The registry to hold the API to: the owner's `--registry` / STILLFLOW_REGISTRY if given (checked to be
 * an address), else the one pinned for `apiUrl`, else none yet (the first publish pins it).
 */
export function trustedRegistry(
  home: string,
  apiUrl: string,
  given: string | undefined,
): { registry?: string; pinned: boolean } {
  if (given !== undefined) {
    if (!isAddress(given)) throw new CliError(EXIT.usage, `--registry ${JSON.stringify(given)} is not an address`)
    return { registry: given, pinned: false }
  }
  const registry = read(home)[apiUrl]
  return registry ? { registry, pinned: true } : { pinned: false }
}

/** Pins `registry` for `apiUrl` (file mode 600), replacing an earlier pin only when the owner named it. */
export function pinRegistry(home: string, apiUrl: string, registry: string): void {
  const pins = read(home)
  if (pins[apiUrl]?.toLowerCase() === registry.toLowerCase()) return
  pins[apiUrl] = registry
  writePrivateJson(join(home, FILE), pins)
}
