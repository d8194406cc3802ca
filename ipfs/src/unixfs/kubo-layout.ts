// How a byte stream becomes a UnixFS DAG whose root CID equals what Kubo's `ipfs add` gives.
//
// Kubo's defaults (boxo/ipld/unixfs/importer/helpers and kubo core/commands/add.go):
// - fixed-size chunks of 256 KiB (`size-262144`);
// - balanced layout, at most 174 links per node (helpers.DefaultLinksPerBlock);
// - CIDv0: dag-pb leaves of UnixFS type `file`, a one-chunk file is that leaf itself;
// - CIDv1: raw leaves unless `--raw-leaves=false`; a one-chunk file is its raw block (`bafkrei…`).
// Checked against Debian's `ipfs_cid` (test/vectors/ipfs-cidv0.json).
//
// The node imports with its own `file-importer.ts`; `importerOptions` gives the same DAG from
// ipfs-unixfs-importer, the reference the tests hold it to.

import type { ImporterOptions } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'

export const KUBO_CHUNK_SIZE = 262_144
export const KUBO_MAX_LINKS = 174
/** boxo's chunker.ChunkSizeLimit: larger chunks would make blocks peers refuse to exchange. */
export const MAX_CHUNK_SIZE = 1_048_576

export interface LayoutSettings {
  cidVersion: 0 | 1
  rawLeaves: boolean
  chunkSize: number
}

/** Kubo's `ipfs add` defaults for a CID version: raw leaves follow CIDv1 unless set explicitly. */
export function kuboDefaults(cidVersion: 0 | 1 = 0): LayoutSettings {
  return { cidVersion, rawLeaves: cidVersion === 1, chunkSize: KUBO_CHUNK_SIZE }
}

export function importerOptions(settings: LayoutSettings): ImporterOptions {
  return {
    cidVersion: settings.cidVersion,
    rawLeaves: settings.rawLeaves,
    // Without raw leaves Kubo wraps each chunk in a UnixFS `file` node (the importer's 'raw'
    // node type exists only to mimic Kubo's trickle DAG).
    leafType: 'file',
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: settings.chunkSize }),
    layout: balanced({ maxChildrenPerNode: KUBO_MAX_LINKS }),
  }
}
