// Turns a byte stream into Kubo's UnixFS DAG for the layout this node supports (fixed-size
// chunks, balanced, 174 links), pushed chunk by chunk with no per-block async machinery.
//
// ipfs-unixfs-importer builds the same DAG (test/ipfs/file-importer.test.ts checks block for
// block), but through chained async generators per block and with a copy of every chunk; on the
// add path that cost more than hashing. This importer hashes raw leaves piece by piece as the
// bytes arrive (node:crypto), hands the sink the pieces as they came (no copy), and builds the
// parent nodes with @ipld/dag-pb and ipfs-unixfs exactly as ipfs-unixfs-importer's balanced
// layout and file builder do (dag-builder/file.js: a lone leaf is the root; otherwise every batch
// of up to 174 nodes, even a batch of one, gets a parent, level by level, until one node is left).

import { createHash, type Hash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import * as Digest from 'multiformats/hashes/digest'
import type { BlockSink } from '../repo/pack-file'
import { KUBO_MAX_LINKS, type LayoutSettings } from './kubo-layout'

// https://github.com/multiformats/multicodec/blob/master/table.csv
const SHA2_256 = 0x12
/** Leaves arriving in more pieces than this are joined first (pwritev takes at most 1024). */
const MAX_LEAF_PIECES = 64

export interface ImportedFile {
  cid: CID
  /** Cumulative DAG size (every block under the root, root included): Kubo's `Size`. */
  size: number
}

interface DagNode {
  cid: CID
  /** Tsize: this block plus every block under it. */
  dagSize: number
  /** File bytes under this node. */
  contentSize: number
}

/**
 * Imports one file pushed in pieces.
 *
 * @example
 * const importer = new FileImporter(sink, kuboDefaults(1))
 * for await (const chunk of source) await importer.write(chunk)
 * const { cid, size } = await importer.end()
 */
export class FileImporter {
  private pieces: Uint8Array[] = []
  private filled = 0
  private hash: Hash | undefined
  private readonly leaves: DagNode[] = []

  constructor(
    private readonly sink: BlockSink,
    private readonly settings: LayoutSettings,
  ) {}

  /**
   * Adds the next bytes of the file. They are kept (not copied) until written, so the caller must
   * not reuse `chunk`'s memory. A returned promise means "wait before writing more".
   */
  write(chunk: Uint8Array): Promise<void> | undefined {
    const { chunkSize, rawLeaves } = this.settings
    let waits: Array<Promise<void>> | undefined
    for (let at = 0; at < chunk.byteLength;) {
      const take = Math.min(chunkSize - this.filled, chunk.byteLength - at)
      const piece = take === chunk.byteLength ? chunk : chunk.subarray(at, at + take)
      at += take
      this.pieces.push(piece)
      this.filled += take
      if (rawLeaves) (this.hash ??= createHash('sha256')).update(piece)
      if (this.filled === chunkSize) {
        const wait = this.leaf()
        if (wait) (waits ??= []).push(wait)
      }
    }
    if (!waits) return undefined
    return waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined)
  }

  /** Ends the file: writes the last leaf and the parent nodes, and returns the root. */
  async end(): Promise<ImportedFile> {
    // An empty file is one empty leaf, as fixedSize() yields one empty chunk.
    if (this.filled > 0 || this.leaves.length === 0) await this.leaf()
    let level = this.leaves
    if (level.length === 1) return { cid: level[0].cid, size: level[0].dagSize }
    for (;;) {
      const next: DagNode[] = []
      for (let i = 0; i < level.length; i += KUBO_MAX_LINKS)
        next.push(await this.parent(level.slice(i, i + KUBO_MAX_LINKS)))
      if (next.length === 1) return { cid: next[0].cid, size: next[0].dagSize }
      level = next
    }
  }

  private leaf(): Promise<void> | undefined {
    const contentSize = this.filled
    let pieces = this.pieces
    this.pieces = []
    this.filled = 0
    let cid: CID
    let blockSize: number
    if (this.settings.rawLeaves) {
      const digest = (this.hash ?? createHash('sha256')).digest()
      this.hash = undefined
      cid = CID.create(1, raw.code, Digest.create(SHA2_256, digest))
      blockSize = contentSize
      if (pieces.length > MAX_LEAF_PIECES) pieces = [Buffer.concat(pieces, contentSize)]
    } else {
      // Kubo without raw leaves: a dag-pb node holding a UnixFS `file` with the chunk as its data.
      const data = pieces.length === 1 ? pieces[0] : Buffer.concat(pieces, contentSize)
      const block = dagPb.encode({ Data: new UnixFS({ type: 'file', data }).marshal(), Links: [] })
      cid = CID.create(this.settings.cidVersion, dagPb.code, sha256(block))
      blockSize = block.byteLength
      pieces = [block]
    }
    this.leaves.push({ cid, dagSize: blockSize, contentSize })
    return this.sink.put(cid, pieces, blockSize)
  }

  private async parent(children: DagNode[]): Promise<DagNode> {
    const unixfs = new UnixFS({ type: 'file' })
    let dagSize = 0
    let contentSize = 0
    for (const child of children) {
      unixfs.addBlockSize(BigInt(child.contentSize))
      dagSize += child.dagSize
      contentSize += child.contentSize
    }
    const block = dagPb.encode(
      dagPb.prepare({
        Data: unixfs.marshal(),
        Links: children.map((child) => ({ Name: '', Tsize: child.dagSize, Hash: child.cid })),
      }),
    )
    const cid = CID.create(this.settings.cidVersion, dagPb.code, sha256(block))
    await this.sink.put(cid, [block], block.byteLength)
    return { cid, dagSize: dagSize + block.byteLength, contentSize }
  }
}

function sha256(bytes: Uint8Array): Digest.Digest<typeof SHA2_256, number> {
  return Digest.create(SHA2_256, createHash('sha256').update(bytes).digest())
}

/** Imports a whole stream (see FileImporter); pass `discardBlocks` as the sink to only compute the CID. */
export async function importFile(
  content: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  sink: BlockSink,
  settings: LayoutSettings,
): Promise<ImportedFile> {
  const importer = new FileImporter(sink, settings)
  for await (const chunk of content) {
    const wait = importer.write(chunk)
    if (wait) await wait
  }
  return importer.end()
}
