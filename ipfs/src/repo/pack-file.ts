// Pack files: the blocks of one upload appended to one file, with an index written beside it.
//
// Creating a file is the dominant cost of a file-per-block store on ext4: ~0.4 ms per openat
// (O_CREAT) on the benchmark VM, so 256 block files of a 64 MiB upload took 90-130 ms where one
// 64 MiB file took 15-20 ms (bench/RESULTS.md, IPFS). A pack costs two file creations per upload.
//
//   packs/<name>.pack   the blocks' bytes back to back, written with positional writes
//   packs/<name>.idx    one record per block: u8 multihash length ‖ multihash ‖ u32le block length
//                       ‖ u48le offset in the pack. Written (temp file + rename) once the pack's
//                       writes are done, so an index never names bytes that were not written.
// A pack without an index is what a crash mid-upload leaves: its blocks were never acknowledged
// and never deduplicated against, so opening the repo deletes it.

import { close, open, writev } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { replaceFile } from './replace-file'
import { WriteBehind } from './write-behind'

export const PACK_EXT = '.pack'
export const INDEX_EXT = '.idx'
const MAX_OFFSET = 2 ** 48
/** IOV_MAX on Linux: the most pieces one pwritev takes. */
const MAX_PIECES = 1024

/** Where a block's bytes are in a pack. */
export interface PackLocation {
  pack: string
  offset: number
  length: number
}

/** Where an import puts its blocks. */
export interface BlockSink {
  /**
   * Stores a block given as pieces that concatenate to its bytes. The sink may keep the pieces
   * until they are written, so the caller must not reuse their memory. A returned promise means
   * "wait before putting more" (too many bytes are in flight).
   */
  put(cid: CID, pieces: readonly Uint8Array[], byteLength: number): Promise<void> | undefined
}

/** A sink that keeps nothing: `add --only-hash` imports into it to compute CIDs. */
export const discardBlocks: BlockSink = { put: () => undefined }

/** The key blocks are held under: their multihash, so CIDv0 and CIDv1 of one block are one entry. */
export function blockKey(cid: CID): string {
  return Buffer.from(
    cid.multihash.bytes.buffer,
    cid.multihash.bytes.byteOffset,
    cid.multihash.bytes.byteLength,
  ).toString('hex')
}

export function encodeIndex(entries: Iterable<[string, PackLocation]>): Buffer {
  const records: Buffer[] = []
  for (const [key, { offset, length }] of entries) {
    const multihash = Buffer.from(key, 'hex')
    const record = Buffer.allocUnsafe(1 + multihash.byteLength + 4 + 6)
    record.writeUInt8(multihash.byteLength, 0)
    multihash.copy(record, 1)
    record.writeUInt32LE(length, 1 + multihash.byteLength)
    record.writeUIntLE(offset, 5 + multihash.byteLength, 6)
    records.push(record)
  }
  return Buffer.concat(records)
}

/** The index of pack `pack`; throws on a truncated or malformed index. */
export function decodeIndex(pack: string, bytes: Buffer): Array<[string, PackLocation]> {
  const out: Array<[string, PackLocation]> = []
  let at = 0
  while (at < bytes.byteLength) {
    const size = bytes[at]
    if (size === 0 || at + 1 + size + 10 > bytes.byteLength) throw new Error(`pack index ${pack} is malformed`)
    const key = bytes.toString('hex', at + 1, at + 1 + size)
    const length = bytes.readUInt32LE(at + 1 + size)
    const offset = bytes.readUIntLE(at + 5 + size, 6)
    out.push([key, { pack, offset, length }])
    at += 1 + size + 10
  }
  return out
}

/**
 * Writes one upload's blocks into a new pack. Puts return at once while writes run behind; the
 * blocks become readable (and count as held) only after `seal()`.
 */
export class PackWriter implements BlockSink {
  private fd: Promise<number> | undefined
  private size = 0
  // Consecutive blocks are written together (16 writes per 64 MiB instead of 256): each write is
  // a hand-off to libuv's thread pool, and on 2 busy cores every wake-up of a pool thread can
  // take the CPU from the thread that is receiving and hashing the upload.
  private batch: Uint8Array[] = []
  private batchBytes = 0
  private batchAt = 0
  private readonly entries = new Map<string, PackLocation>()
  private readonly behind: WriteBehind

  constructor(
    private readonly dir: string,
    readonly name: string,
    /** True when the repo already holds the block, so it is not written again. */
    private readonly held: (key: string) => boolean,
    private readonly publish: (entries: Map<string, PackLocation>) => void,
    maxInflightBytes?: number,
  ) {
    this.behind = new WriteBehind(maxInflightBytes)
  }

  put(cid: CID, pieces: readonly Uint8Array[], byteLength: number): Promise<void> | undefined {
    const key = blockKey(cid)
    if (this.entries.has(key) || this.held(key)) return undefined
    const location = { pack: this.name, offset: this.size, length: byteLength }
    if (location.offset + byteLength > MAX_OFFSET) throw new RangeError('pack file too large')
    this.size += byteLength
    this.entries.set(key, location)
    this.fd ??= fsOpen(join(this.dir, this.name + PACK_EXT))
    if (this.batch.length === 0) this.batchAt = location.offset
    for (const piece of pieces) this.batch.push(piece)
    this.batchBytes += byteLength
    if (this.batchBytes >= WRITE_BATCH_BYTES || this.batch.length >= MAX_PIECES) return this.writeBatch()
    return undefined
  }

  /** Waits for every write, then writes the index and makes the blocks visible to readers. */
  async seal(): Promise<void> {
    await this.writeBatch()
    await this.behind.flush()
    if (!this.fd) return
    await fsClose(await this.fd)
    this.fd = undefined
    const index = join(this.dir, this.name + INDEX_EXT)
    // The index appears whole or not at all.
    await replaceFile(index, encodeIndex(this.entries))
    this.publish(this.entries)
  }

  /** Drops the upload: waits for writes in flight and deletes the pack. */
  async discard(): Promise<void> {
    this.batch = []
    await this.behind.settle()
    if (!this.fd) return
    await fsClose(await this.fd).catch(() => undefined)
    this.fd = undefined
    await rm(join(this.dir, this.name + PACK_EXT), { force: true })
  }

  private writeBatch(): Promise<void> | undefined {
    const { batch, batchBytes, batchAt, fd } = this
    this.batch = []
    this.batchBytes = 0
    if (batchBytes === 0 || !fd) return undefined
    return this.behind.run(batchBytes, async () => writeAll(await fd, batch, batchAt))
  }
}

const WRITE_BATCH_BYTES = 4 * 1024 * 1024

function fsOpen(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'wx', (err, fd) => (err ? reject(err) : resolve(fd))))
}

function fsClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())))
}

/** pwritev until every byte is written (a regular file may take fewer bytes per call). */
async function writeAll(fd: number, pieces: readonly Uint8Array[], position: number): Promise<void> {
  let rest = pieces.slice(0, MAX_PIECES)
  let queued = pieces.slice(MAX_PIECES)
  while (rest.length > 0) {
    const written = await new Promise<number>((resolve, reject) =>
      writev(fd, rest as Uint8Array[], position, (err, n) => (err ? reject(err) : resolve(n))),
    )
    if (written === 0) throw new Error('pwritev wrote nothing')
    position += written
    let skip = written
    while (rest.length > 0 && skip >= rest[0].byteLength) skip -= (rest.shift() as Uint8Array).byteLength
    if (rest.length > 0 && skip > 0) rest[0] = rest[0].subarray(skip)
    if (rest.length === 0 && queued.length > 0) {
      rest = queued.slice(0, MAX_PIECES)
      queued = queued.slice(MAX_PIECES)
    }
  }
}
