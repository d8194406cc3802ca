// Node-only helpers for the SDK: files as re-readable sources, and node:crypto / the IPFS node's own
// importer for the bulk work of a publish (each several times faster than the portable WebCrypto and
// ipfs-unixfs-importer paths on Node, with identical output).
import { createHash } from 'node:crypto'
import { createReadStream, statSync } from 'node:fs'
import { cidOfStream } from '../../../ipfs/src/index'
import { nodeChunkCipher } from '../../../tee-sim/src/enclave/node-aead'
import type { Hasher, PublishOptions, PublishSource } from '../index'

/** A file on disk as a PublishSource: read twice (hash, then upload), 1 MiB at a time. */
export function fileSource(path: string): PublishSource {
  const size = statSync(path).size
  return { size, open: () => createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array> }
}

export function nodeHasher(): Hasher {
  const h = createHash('sha256')
  return { update: (b) => void h.update(b), digest: () => new Uint8Array(h.digest()) }
}

/**
 * The Node backends for `publish()`: node:crypto SHA-256 and AES-256-GCM (the same chunk format the
 * enclave decrypts with this very cipher) and the embedded IPFS node's importer for the CID.
 *
 * @example
 * await publish({ ...opts, source: fileSource('data.csv'), ...nodeBackends })
 */
export const nodeBackends: Pick<PublishOptions, 'createHasher' | 'cipher' | 'computeCid'> = {
  createHasher: nodeHasher,
  cipher: nodeChunkCipher,
  computeCid: cidOfStream,
}
