// Lets an import keep reading its upload while earlier blocks are still being written.
//
// Hashing happens as the bytes arrive; writing them to disk runs on libuv's thread pool. This
// queue starts a write at once, keeps up to `maxBytes` of writes in flight (the caller waits for
// room, which pauses the upload), and reports any failure from `flush()` (or the next `run`).

export class WriteBehind {
  private readonly pending = new Set<Promise<void>>()
  private inflightBytes = 0
  private failure: { error: unknown } | undefined

  constructor(private readonly maxBytes = 32 * 1024 * 1024) {}

  /**
   * Starts `write` (of `bytes` bytes) once fewer than `maxBytes` are in flight. Resolves when the
   * write has started, not when it is done; returns undefined when it could start at once, so a
   * caller on a hot path does not pay for a promise.
   */
  run(bytes: number, write: () => Promise<void>): Promise<void> | undefined {
    this.throwIfFailed()
    if (this.inflightBytes + bytes > this.maxBytes && this.pending.size > 0) return this.runLater(bytes, write)
    this.start(bytes, write)
    return undefined
  }

  /** Resolves once every accepted write is done; rejects with the first write failure. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending)
    this.throwIfFailed()
  }

  /** Waits for writes in flight, ignoring their failures (the caller is abandoning them). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending)
  }

  private async runLater(bytes: number, write: () => Promise<void>): Promise<void> {
    while (this.inflightBytes + bytes > this.maxBytes && this.pending.size > 0) {
      await Promise.race(this.pending)
      this.throwIfFailed()
    }
    this.start(bytes, write)
  }

  private start(bytes: number, write: () => Promise<void>): void {
    this.inflightBytes += bytes
    const tracked: Promise<void> = write()
      .catch((error: unknown) => {
        this.failure ??= { error }
      })
      .finally(() => {
        this.inflightBytes -= bytes
        this.pending.delete(tracked)
      })
    this.pending.add(tracked)
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error
  }
}
