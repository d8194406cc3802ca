// Ctrl-C (SIGINT) while a command waits on something that carries on without it — a submitted job, a
// publication the marketplace is minting: the command ends with a message saying what still happens and
// how to follow it, instead of the process dying silently.

/** The command stopped waiting because the user pressed Ctrl-C. */
export class Interrupted extends Error {
  override name = 'Interrupted'
}

/**
 * SIGINT as a rejection, from `arm()` until `disarm()`: `race(work)` rejects with Interrupted on the first
 * Ctrl-C, and `signal` aborts for work that can stop. Outside that window Ctrl-C keeps its default.
 */
export function interruption() {
  const controller = new AbortController()
  const onSigint = () => controller.abort(new Interrupted('interrupted'))
  const rejected = new Promise<never>((_, reject) =>
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason)),
  )
  // Not every caller races (a disarmed interruption never rejects, but one that fired unraced must not
  // surface as an unhandled rejection).
  rejected.catch(() => undefined)
  return {
    signal: controller.signal,
    /** Races `work` against Ctrl-C. */
    race: <T>(work: Promise<T>) => Promise.race([work, rejected]),
    arm: () => process.on('SIGINT', onSigint),
    disarm: () => process.off('SIGINT', onSigint),
  }
}
