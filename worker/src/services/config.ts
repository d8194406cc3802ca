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
 * health report. The operator's log gets the address: its origin only, since a URL's credentials, path or
 * query may hold a secret (an RPC provider's key).
 */
export async function reaching<T>(what: string, url: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    let unreachable: UnreachableError | undefined
    if ((err as Error)?.name === 'TimeoutError') {
      unreachable = new UnreachableError(`${what} did not answer in time`, { cause: err })
    } else if (/network connection lost|fetch failed|ECONNREFUSED|connect/i.test(message)) {
      const why = withoutAddresses(message.replace(/\.$/, ''))
      unreachable = new UnreachableError(`${what} is not reachable (${why})`, { cause: err })
    }
    if (!unreachable) throw err
    // Logged here, once, with the address: whoever catches it (a route, a job, a publication, health)
    // shows users the message only, and the operator still learns which component's address failed.
    console.error(`${unreachable.message} at ${originOf(url)}`)
    throw unreachable
  }
}

/** scheme://host:port of a URL: no credentials, path or query (the parts that carry secrets). */
export function originOf(url: string): string {
  try {
    return new URL(url).origin
  } catch {
    return '<not a URL>'
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
}
