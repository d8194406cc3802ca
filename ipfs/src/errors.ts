// The node's error vocabulary: one base class, one subclass per condition, none of them HTTP-aware.
// `http/kubo-error.ts` is the only place that turns them into status codes.

export class IpfsError extends Error {
  override name = 'IpfsError'
  constructor(
    readonly shortMessage: string,
    opts: { cause?: unknown; details?: string } = {},
  ) {
    super([shortMessage, opts.details].filter(Boolean).join('\n'), { cause: opts.cause })
  }
}

/** A request argument, option, CID or multipart body the node cannot accept. */
export class InvalidArgumentError extends IpfsError {
  override name = 'InvalidArgumentError'
}

/** A block the repo does not hold. The node is offline by design, so this is final. */
export class BlockNotFoundError extends IpfsError {
  override name = 'BlockNotFoundError'
  constructor(readonly cid: string) {
    // Kubo's wording when running offline, so clients matching on it keep working.
    super(`block was not found locally (offline): ipld: could not find ${cid}`)
  }
}

/** An upload that exceeds the node's `maxUploadBytes`. */
export class UploadTooLargeError extends IpfsError {
  override name = 'UploadTooLargeError'
  constructor(readonly limit: number) {
    super(`request body exceeds the upload limit of ${limit} bytes`)
  }
}

/** A pin operation that contradicts the current pin state (e.g. unpinning what is not pinned). */
export class PinStateError extends IpfsError {
  override name = 'PinStateError'
}

/** The repo is already in use by another live process. */
export class RepoLockedError extends IpfsError {
  override name = 'RepoLockedError'
}

/** A listening port is taken; `role` says which of the node's two listeners it was. */
export class PortInUseError extends IpfsError {
  override name = 'PortInUseError'
  constructor(
    readonly role: 'api' | 'gateway',
    readonly host: string,
    readonly port: number,
    cause?: unknown,
  ) {
    super(`ipfs ${role} port ${port} on ${host} is already in use`, { cause })
  }
}
