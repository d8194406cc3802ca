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
 * Runs a call to an external component and, when the connection itself fails, says which component could
 * not be reached (workerd reports only "Network connection lost."). The message names the component,
 * never its address: it reaches owners and buyers as a publication's or a job's reason and the public
 * health report. The address stays on the error for the operator's log.
 */
export async function reaching<T>(what: string, url: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    if ((err as Error)?.name === 'TimeoutError')
      throw new UnreachableError(`${what} did not answer in time`, url, { cause: err })
    if (/network connection lost|fetch failed|ECONNREFUSED|connect/i.test(message)) {
      const why = withoutAddresses(message.replace(/\.$/, ''))
      throw new UnreachableError(`${what} is not reachable (${why})`, url, { cause: err })
    }
    throw err
  }
}

/** Text with URLs and IP addresses (a connect error's "127.0.0.1:7100") replaced by `<address>`. */
export function withoutAddresses(text: string): string {
  return text
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, '<address>')
    .replace(/\[[0-9a-f:.]+\](:\d+)?|\b\d{1,3}(\.\d{1,3}){3}(:\d+)?/gi, '<address>')
}

/** A component of the stack could not be reached: the caller may retry later (503). */
export class UnreachableError extends Error {
  override name = 'UnreachableError'
  constructor(
    message: string,
    /** The component's URL: for the operator's log, never for a response. */
    readonly address: string,
    opts?: ErrorOptions,
  ) {
    super(message, opts)
  }
}
