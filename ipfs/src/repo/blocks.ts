// The block store: pack files (one per upload, see pack-file.ts) indexed in memory, over the
// blockstore-fs layout that repos written before packs existed still hold (read, never written).

import { access, close, open, read } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises'
import { join } from 'node:path'
import { NextToLast } from 'blockstore-fs/sharding'
import type { CID } from 'multiformats/cid'
import { BlockNotFoundError, IpfsError } from '../errors'
import { blockKey, decodeIndex, INDEX_EXT, PACK_EXT, type PackLocation, PackWriter } from './pack-file'

/** Reading blocks: all the DAG readers need, so tests can wrap the store. */
export type BlockReader = Pick<RepoBlocks, 'bytes' | 'has'>

/** Pack files kept open for reading; more are opened (and the least recently used closed) on demand. */
const OPEN_PACKS = 32

/** A sealed pack, as garbage collection sees it. */
export interface PackInfo {
  name: string
  /** Every block key its index lists (some may be served from another pack that has them too). */
  keys: string[]
  /** When its index was written (ms since the epoch): when its upload finished. */
  writtenAt: number
}

export class RepoBlocks {
  private readonly index = new Map<string, PackLocation>()
  /** Each sealed pack's own index entries, so a pack can be dropped (repo/gc.ts). */
  private readonly packEntries = new Map<string, Array<[string, PackLocation]>>()
  /** Blocks two packs both hold (uploads that raced): the copies `index` does not point to. */
  private readonly spares = new Map<string, PackLocation[]>()
  private readonly readers = new Map<string, { fd: Promise<number>; users: number }>()
  /** When an upload last reused a block of each pack instead of writing it again (see `reuse`). */
  private readonly reusedAt = new Map<string, number>()
  private written = 0

  private constructor(
    private readonly dir: string,
    private readonly packDir: string,
  ) {}

  /** Opens (creating when missing) the store in `dir`, loading every pack index. */
  static async open(dir: string): Promise<RepoBlocks> {
    const packDir = join(dir, 'packs')
    await mkdir(packDir, { recursive: true })
    const blocks = new RepoBlocks(dir, packDir)
    const names = await readdir(packDir)
    const indexed = new Set(names.filter((n) => n.endsWith(INDEX_EXT)).map((n) => n.slice(0, -INDEX_EXT.length)))
    for (const name of names) {
      // Left by a crash mid-upload (see pack-file.ts): never acknowledged, so nothing refers to it.
      if (name.endsWith('.tmp') || (name.endsWith(PACK_EXT) && !indexed.has(name.slice(0, -PACK_EXT.length)))) {
        await rm(join(packDir, name), { force: true })
      }
    }
    for (const name of indexed) {
      blocks.addPack(name, decodeIndex(name, await readFile(join(packDir, name + INDEX_EXT))))
    }
    return blocks
  }

  /** Blocks held in packs (blocks in the pre-pack layout are counted by walking it). */
  get packedCount(): number {
    return this.index.size
  }

  /** True when `key` (see `blockKey`) is held in a pack. */
  isPacked(key: string): boolean {
    return this.index.has(key)
  }

  /**
   * A writer for one upload: its blocks go to a new pack and become visible on `seal()`.
   *
   * @example
   * const writer = blocks.writer()
   * try { await importFile(source, writer, settings); await writer.seal() }
   * catch (err) { await writer.discard(); throw err }
   */
  writer(): PackWriter {
    const name = `${Date.now().toString(36)}-${process.pid}-${(this.written++).toString(36)}`
    return new PackWriter(
      this.packDir,
      name,
      (key) => this.reuse(key),
      (entries) => this.addPack(name, [...entries]),
    )
  }

  private addPack(name: string, entries: Array<[string, PackLocation]>): void {
    this.packEntries.set(name, entries)
    for (const [key, location] of entries) {
      if (!this.index.has(key)) this.index.set(key, location)
      else this.spares.set(key, [...(this.spares.get(key) ?? []), location])
    }
  }

  /**
   * True when the repo holds `key`, which the upload asking then does not write again. Its pack counts as
   * written now: the new upload needs that block, though nothing may pin it yet, so garbage collection
   * must wait out the grace period again. Marked in memory (no race with a collection) and on the
   * index's mtime (so a restart remembers).
   */
  private reuse(key: string): boolean {
    const location = this.index.get(key)
    if (!location) return false
    const now = Date.now()
    if (now - (this.reusedAt.get(location.pack) ?? 0) > 60_000) {
      this.reusedAt.set(location.pack, now)
      const when = new Date(now)
      utimes(join(this.packDir, location.pack + INDEX_EXT), when, when).catch(() => undefined)
    }
    return true
  }

  /** The sealed packs (see repo/gc.ts). */
  async packs(): Promise<PackInfo[]> {
    const out: PackInfo[] = []
    for (const [name, entries] of this.packEntries) {
      const written = await stat(join(this.packDir, name + INDEX_EXT)).catch(() => undefined)
      if (!written) continue
      const writtenAt = Math.max(written.mtimeMs, this.reusedAt.get(name) ?? 0)
      out.push({ name, keys: entries.map(([key]) => key), writtenAt })
    }
    return out
  }

  /**
   * Deletes a sealed pack, unless an upload reused one of its blocks at or after `ifWrittenBefore`;
   * returns the keys of the blocks the repo no longer holds (a block another pack also holds stays
   * readable from there). The index goes first, so a crash in between leaves a
   * pack without an index, which the next open deletes. A read already under way finishes (the open
   * file outlives the unlink).
   */
  async removePack(name: string, ifWrittenBefore = Infinity): Promise<string[]> {
    const entries = this.packEntries.get(name)
    // Checked here, with no await before the index changes: an upload reusing a block meanwhile wins.
    if (!entries || (this.reusedAt.get(name) ?? 0) >= ifWrittenBefore) return []
    this.packEntries.delete(name)
    const lost: string[] = []
    for (const [key] of entries) {
      const spares = this.spares.get(key)?.filter((l) => l.pack !== name)
      if (spares?.length) this.spares.set(key, spares)
      else this.spares.delete(key)
      if (this.index.get(key)?.pack !== name) continue
      // Served from another pack's copy if there is one; otherwise the repo no longer holds it.
      const spare = spares?.shift()
      if (spare) this.index.set(key, spare)
      else {
        this.index.delete(key)
        lost.push(key)
      }
      if (spares?.length === 0) this.spares.delete(key)
    }
    const reader = this.readers.get(name)
    if (reader) {
      this.readers.delete(name)
      if (reader.users === 0) reader.fd.then(fsClose, () => undefined)
    }
    await rm(join(this.packDir, name + INDEX_EXT), { force: true })
    await rm(join(this.packDir, name + PACK_EXT), { force: true })
    return lost
  }

  async has(cid: CID): Promise<boolean> {
    if (this.index.has(blockKey(cid))) return true
    return new Promise((resolve) => access(this.legacyPath(cid), (err) => resolve(!err)))
  }

  /**
   * The whole block as one buffer; throws `BlockNotFoundError` when the repo lacks it.
   * @param alloc where to read a packed block (e.g. a recycled buffer); default a new one.
   */
  async bytes(cid: CID, alloc: (length: number) => Buffer = Buffer.allocUnsafe): Promise<Uint8Array> {
    const location = this.index.get(blockKey(cid))
    if (location) return this.readPacked(location, alloc)
    // One readFile per block instead of blockstore-fs's read stream (64 KiB pieces joined again).
    try {
      return await readFile(this.legacyPath(cid))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BlockNotFoundError(cid.toString())
      throw err
    }
  }

  async close(): Promise<void> {
    const readers = [...this.readers.values()]
    this.readers.clear()
    for (const reader of readers) await reader.fd.then(fsClose, () => undefined)
  }

  private legacyPath(cid: CID): string {
    const { dir, file } = LEGACY_LAYOUT.encode(cid)
    return join(this.dir, dir, file)
  }

  private async readPacked(
    { pack, offset, length }: PackLocation,
    alloc: (length: number) => Buffer,
  ): Promise<Uint8Array> {
    let reader = this.readers.get(pack)
    if (reader) {
      // Most recently used last, so eviction takes the first idle one.
      this.readers.delete(pack)
    } else {
      reader = { fd: fsOpen(join(this.packDir, pack + PACK_EXT)), users: 0 }
    }
    this.readers.set(pack, reader)
    reader.users++
    try {
      const fd = await reader.fd
      const buffer = alloc(length)
      let at = 0
      while (at < length) {
        const n = await fsRead(fd, buffer, at, length - at, offset + at)
        if (n === 0) throw new IpfsError(`pack ${pack} ends before the block at ${offset} (${length} bytes)`)
        at += n
      }
      return buffer
    } finally {
      reader.users--
      // A pack removed while this read ran is no longer in `readers`: its file is closed here.
      if (reader.users === 0 && this.readers.get(pack) !== reader) reader.fd.then(fsClose, () => undefined)
      this.evictIdleReaders()
    }
  }

  private evictIdleReaders(): void {
    for (const [pack, reader] of this.readers) {
      if (this.readers.size <= OPEN_PACKS) return
      if (reader.users > 0) continue
      this.readers.delete(pack)
      reader.fd.then(fsClose, () => undefined)
    }
  }
}

/** blockstore-fs's default layout: base32 multihash file names, sharded by their next-to-last chars. */
const LEGACY_LAYOUT = new NextToLast()

/** Whether a file name in the pre-pack layout names a block, and its key. */
export function legacyBlockKey(fileName: string): string | undefined {
  if (!fileName.endsWith('.data') || fileName.startsWith('.')) return undefined
  try {
    return blockKey(LEGACY_LAYOUT.decode(fileName))
  } catch {
    return undefined // not a block file name: not a block
  }
}

function fsOpen(path: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))))
}

function fsClose(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())))
}

function fsRead(fd: number, buffer: Buffer, at: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, at, length, position, (err, n) => (err ? reject(err) : resolve(n))),
  )
}
