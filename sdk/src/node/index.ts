// Node-only helpers for the SDK: files as re-readable sources, and node:crypto's SHA-256.
import { createHash } from 'node:crypto'
import { createReadStream, statSync } from 'node:fs'
import type { Hasher, PublishSource } from '../index'

/** A file on disk as a PublishSource: read twice (hash, then upload), 1 MiB at a time. */
export function fileSource(path: string): PublishSource {
  const size = statSync(path).size
  return { size, open: () => createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array> }
}

export function nodeHasher(): Hasher {
  const h = createHash('sha256')
  return { update: (b) => void h.update(b), digest: () => new Uint8Array(h.digest()) }
}
