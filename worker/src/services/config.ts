// Reads and validates the worker's configuration variables; a bad setting is named in the error.
import type { Bindings } from '../env'

export interface AddressBook {
  chainId: number
  contracts: Record<string, string>
  deployedAtBlock: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(`${setting}: ${message}`)
  }
}

export function requireSetting(env: Bindings, name: 'CHAIN_RPC_URL' | 'IPFS_API_URL' | 'ENCLAVE_URL'): string {
  const value = env[name]
  if (!value) throw new ConfigError(name, 'is not set')
  try {
    new URL(value)
  } catch {
    throw new ConfigError(name, `is not a URL: ${JSON.stringify(value)}`)
  }
  return value.replace(/\/+$/, '')
}

export function addressBook(env: Bindings): AddressBook {
  if (!env.ADDRESS_BOOK) throw new ConfigError('ADDRESS_BOOK', 'is not set')
  let parsed: unknown
  try {
    parsed = JSON.parse(env.ADDRESS_BOOK)
  } catch {
    throw new ConfigError('ADDRESS_BOOK', 'is not valid JSON')
  }
  const book = parsed as Partial<AddressBook>
  if (typeof book?.chainId !== 'number' || typeof book.contracts !== 'object' || book.contracts === null) {
    throw new ConfigError('ADDRESS_BOOK', 'needs { chainId: number, contracts: { name: address } }')
  }
  return { chainId: book.chainId, contracts: book.contracts, deployedAtBlock: book.deployedAtBlock ?? 0 }
}

/**
 * Runs a call to an external component and, when the connection itself fails, says which URL could not
 * be reached (workerd reports only "Network connection lost.").
 */
export async function reaching<T>(what: string, url: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if ((err as Error)?.name === 'TimeoutError')
      throw new UnreachableError(`${what} at ${url} did not answer in time`, { cause: err })
    if (/network connection lost|fetch failed|ECONNREFUSED|connect/i.test(message)) {
      throw new UnreachableError(`${what} is not reachable at ${url} (${message.replace(/\.$/, '')})`, { cause: err })
    }
    throw err
  }
}

/** A component of the stack could not be reached: the caller may retry later (503). */
export class UnreachableError extends Error {
  override name = 'UnreachableError'
}
