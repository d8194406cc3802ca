// The SDK's one error base (viem-style shortMessage/details/cause) and the error an API refusal becomes.

export class StillflowError extends Error {
  override name = 'StillflowError'
  readonly shortMessage: string
  readonly details?: string
  constructor(shortMessage: string, opts: { cause?: unknown; details?: string } = {}) {
    super([shortMessage, opts.details].filter(Boolean).join('\n'), { cause: opts.cause })
    this.shortMessage = shortMessage
    this.details = opts.details
  }
}

/** The marketplace answered with `{ error: { code, message } }` and a non-2xx status. */
export class ApiRequestError extends StillflowError {
  override name = 'ApiRequestError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly body?: unknown,
  ) {
    super(message, { details: `HTTP ${status} ${code}` })
  }
}

/** No answer at all: the service could not be reached, or the connection failed before it answered. */
export class ServiceUnreachableError extends StillflowError {
  override name = 'ServiceUnreachableError'
}

/** The enclave's evidence did not check out: never hand it a key. */
export class EnclaveNotTrustedError extends StillflowError {
  override name = 'EnclaveNotTrustedError'
}

export class InvalidPublicationError extends StillflowError {
  override name = 'InvalidPublicationError'
}
