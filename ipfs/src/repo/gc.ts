// Garbage collection (Kubo's `ipfs repo gc`): deletes the packs none of whose blocks a pin reaches.
//
// What it is for: uploads that never become assets. A ticketed upload is stored unpinned and the worker
// pins it only when the owner's publish goes ahead (http/upload.ts); an abandoned upload, a publish that
// failed (its pins undone) or a one-pass upload of a file already registered leave blocks nobody needs.
// A pack younger than the grace period is kept whatever its pins: its upload may be waiting for the
// owner's signature and the worker's pin (up to an hour: the intent and Publish deadlines); a pack one
// of whose blocks a newer upload reused instead of writing it again counts as written then. Collection
// works a pack at a time: a pack any pinned DAG reaches stays whole. Blocks in the pre-pack layout are
// never collected.

import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import { walkDag } from '../unixfs/dag-walk'
import type { RepoBlocks } from './blocks'
import { blockKey } from './pack-file'
import type { PinSet } from './pins'

/** Kubo's GC lock: pinning (check the DAG is whole, then pin) never interleaves with a collection. */
export class GcLock {
  private shared = 0
  private drained: (() => void) | undefined
  private collecting: Promise<unknown> | undefined

  /** Runs `fn` while no collection runs (many at once). */
  async withShared<T>(fn: () => Promise<T>): Promise<T> {
    while (this.collecting) await this.collecting.catch(() => undefined)
    this.shared++
    try {
      return await fn()
    } finally {
      if (--this.shared === 0) this.drained?.()
    }
  }

  /** Runs `fn` alone: after the shared holders leave; new ones wait until it is done. */
  async withExclusive<T>(fn: () => Promise<T>): Promise<T> {
    while (this.collecting) await this.collecting.catch(() => undefined)
    const run = (async () => {
      while (this.shared > 0) await new Promise<void>((resolve) => (this.drained = resolve))
      this.drained = undefined
      return fn()
    })()
    this.collecting = run
    try {
      return await run
    } finally {
      this.collecting = undefined
    }
  }
}

export interface GcOptions {
  /** Packs written less than this long ago are kept. */
  graceMs: number
  now?: () => number
}

/**
 * Collects garbage; returns the CIDs (v1, raw codec: blocks are held by multihash, as in Kubo) of the
 * blocks removed. A pinned DAG that is not whole throws (BlockNotFoundError) and removes nothing.
 */
export async function collectGarbage(
  repo: { blocks: RepoBlocks; pins: PinSet; gcLock: GcLock },
  opts: GcOptions,
): Promise<CID[]> {
  return repo.gcLock.withExclusive(async () => {
    const live = new Set<string>()
    for (const [root, type] of repo.pins.entries()) {
      const cid = CID.parse(root)
      if (type === 'direct') live.add(blockKey(cid))
      else for await (const block of walkDag(repo.blocks, cid, { readLeaves: false })) live.add(blockKey(block.cid))
    }
    const cutoff = (opts.now ?? Date.now)() - opts.graceMs
    const removed: string[] = []
    for (const pack of await repo.blocks.packs()) {
      if (pack.writtenAt > cutoff || pack.keys.some((key) => live.has(key))) continue
      removed.push(...(await repo.blocks.removePack(pack.name, cutoff)))
    }
    return removed.map((key) => CID.createV1(raw.code, Digest.decode(Buffer.from(key, 'hex'))))
  })
}
