// Lets an import keep reading its upload while earlier blocks are still being written.
//
// The importer hashes blocks in batches and waits for each batch's writes before it pulls more
// input, so receiving and writing would take turns. This store acknowledges a put at once, keeps
// up to `maxBytes` of writes in flight, and reports any failure from `flush()` (or the next put).

import type { WritableStorage } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'

export class WriteBehind implements WritableStorage {
  private readonly pending = new Set<Promise<void>>()
  private inflightBytes = 0
  private failure: { error: unknown } | undefined

  constructor(
    private readonly store: WritableStorage,
    private readonly maxBytes = 32 * 1024 * 1024,
  ) {}

  async put(cid: CID, block: Uint8Array): Promise<CID> {
    this.throwIfFailed()
    while (this.inflightBytes + block.byteLength > this.maxBytes && this.pending.size > 0) {
      await Promise.race(this.pending)
      this.throwIfFailed()
    }
    const size = block.byteLength
    this.inflightBytes += size
    const write: Promise<void> = Promise.resolve(this.store.put(cid, block)).then(
      () => undefined,
      (error: unknown) => {
        this.failure ??= { error }
      },
    )
    const tracked = write.finally(() => {
      this.inflightBytes -= size
      this.pending.delete(tracked)
    })
    this.pending.add(tracked)
    return cid
  }

  /** Resolves once every accepted block is on disk; rejects with the first write failure. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.all(this.pending)
    this.throwIfFailed()
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error
  }
}
