// Exit codes scripts can rely on; documented in cli/README.md.
export const EXIT = {
  ok: 0,
  /** Something failed that is not the caller's fault (network, server error). */
  failure: 1,
  /** The command line itself is wrong. */
  usage: 2,
  /** The marketplace refused the request (a 4xx: bad input, not allowed, conflict). */
  rejected: 3,
  /** Not signed in, or the session expired. */
  auth: 4,
  /**
   * A job was submitted but the command stopped waiting for it (timeout, lost connection): it carries on,
   * and `stillflow job result <jobId>` collects its result later.
   */
  pending: 5,
  /** Interrupted (Ctrl-C, SIGINT): 128 + 2, as shells report it. A submitted job carries on, as for `pending`. */
  interrupted: 130,
} as const
export type ExitCode = (typeof EXIT)[keyof typeof EXIT]

/** An error that ends the command with a specific exit code and a one-line message. */
export class CliError extends Error {
  override name = 'CliError'
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }
}
