// Validates the path and query parameters of the index's read routes; a bad value is a 400 with a code.
import { ApiError, echo } from '../errors'

const MAX_UINT256 = (1n << 256n) - 1n

/** A token or licence id: a decimal uint256 without leading zeros. */
export function uintParam(value: string | undefined, what: string, code: string): string {
  if (!value || !/^(0|[1-9][0-9]{0,77})$/.test(value) || BigInt(value) > MAX_UINT256) {
    throw new ApiError(400, code, `${what} must be a decimal integer between 0 and 2^256-1, got ${echo(value)}`)
  }
  return value
}

/** A 20-byte address, returned lowercase (the index stores addresses lowercase). */
export function addressParam(value: string | undefined): string {
  if (!value || !/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new ApiError(400, 'invalid_address', `address must be 0x followed by 40 hex digits, got ${echo(value)}`)
  }
  return value.toLowerCase()
}

/** A 32-byte hash, returned lowercase. */
export function hashParam(value: string | undefined, what: string): string {
  if (!value || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new ApiError(400, 'invalid_hash', `${what} must be 0x followed by 64 hex digits, got ${echo(value)}`)
  }
  return value.toLowerCase()
}

/** An optional integer query parameter from `min` (default 0) to `max`; one message for any value outside. */
export function intQuery(
  value: string | undefined,
  name: string,
  max = Number.MAX_SAFE_INTEGER,
  min = 0,
): number | undefined {
  if (value === undefined) return undefined
  if (!/^(0|[1-9][0-9]{0,15})$/.test(value) || Number(value) > max || Number(value) < min) {
    throw new ApiError(
      400,
      `invalid_${name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`,
      `${name} must be an integer between ${min} and ${max}, got ${echo(value)}`,
    )
  }
  return Number(value)
}
