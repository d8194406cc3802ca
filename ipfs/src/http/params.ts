// Kubo RPC query arguments: typed readers that reject bad values with Kubo's wording.

import { CID } from 'multiformats/cid'
import { InvalidArgumentError } from '../errors'

export class Params {
  constructor(private readonly query: URLSearchParams) {}

  has(name: string): boolean {
    return this.query.has(name)
  }

  string(name: string): string | undefined {
    return this.query.get(name) ?? undefined
  }

  /** Go's strconv.ParseBool spellings, as go-ipfs-cmds accepts them; a bare `?flag` means true. */
  bool(name: string, fallback: boolean): boolean {
    const raw = this.query.get(name)
    if (raw === null) return fallback
    if (['', '1', 't', 'T', 'true', 'TRUE', 'True'].includes(raw)) return true
    if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(raw)) return false
    throw new InvalidArgumentError(`invalid value for option "${name}": "${raw}" is not a boolean`)
  }

  /** A non-negative safe integer, or `fallback` when absent. */
  int(name: string, fallback?: number): number | undefined {
    const raw = this.query.get(name)
    if (raw === null) return fallback
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      throw new InvalidArgumentError(`invalid value for option "${name}": "${raw}" is not a non-negative integer`)
    }
    return Number(raw)
  }

  /**
   * Refuses any option not named here (for destructive commands, where an option this node ignores —
   * say a grace period — would silently do something other than asked).
   */
  only(names: readonly string[]): void {
    for (const name of this.query.keys()) {
      if (!names.includes(name)) throw new InvalidArgumentError(`option "${name}" is not supported by this command`)
    }
  }

  /** Every `arg` value; Kubo passes positional arguments this way. */
  args(): string[] {
    return this.query.getAll('arg')
  }

  /** The one required positional argument, named as Kubo's help text names it. */
  requiredArg(label: string): string {
    const [first] = this.args()
    if (first === undefined || first === '') throw new InvalidArgumentError(`argument "${label}" is required`)
    return first
  }
}

/**
 * A CID from `<cid>` or `/ipfs/<cid>`. Paths below a CID are refused: this node only imports
 * single files, so there is nothing to traverse by name.
 */
export function parseCid(value: string): CID {
  const trimmed = value.startsWith('/ipfs/') ? value.slice('/ipfs/'.length) : value
  const [first, ...rest] = trimmed.split('/')
  if (rest.some((segment) => segment !== '')) {
    throw new InvalidArgumentError(`invalid path "${value}": paths below a CID are not supported by this node`)
  }
  try {
    return CID.parse(first)
  } catch (err) {
    throw new InvalidArgumentError(`invalid path "${value}": invalid cid: ${(err as Error).message}`, { cause: err })
  }
}
