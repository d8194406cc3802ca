// Reads a UnixFS file's bytes out of the repo, pulled by the consumer.
//
// ipfs-unixfs-exporter (behind @helia/unixfs `cat`) walks the whole DAG as fast as the disk allows
// and queues every block for the consumer without backpressure, so a slow client reading a 1 GiB
// file would make the node hold up to 1 GiB; it also copies every block once more. This reader
// keeps at most READ_AHEAD blocks in flight and hands out views of the blocks it read; given a
// `BlockBufferPool`, it reads raw leaves into recycled buffers, so streaming a large file does not
// allocate (and later garbage-collect) one new buffer per block.
//
// UnixFS (https://github.com/ipfs/specs/blob/main/UNIXFS.md): a file node's content is its own
// `Data` bytes followed by the content of each link in order; `blockSizes[i]` is the content
// length under link i, which lets a range read skip whole subtrees.

import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { InvalidArgumentError, IpfsError } from '../errors'
import type { BlockReader } from '../repo/blocks'
import { KUBO_CHUNK_SIZE } from './kubo-layout'

const READ_AHEAD = 8

/**
 * Block-sized buffers lent to `readFile` and handed back by whoever sent the bytes, once the
 * socket has taken them (`res.write(chunk, () => pool.release(chunk))`). A chunk never handed
 * back is simply garbage-collected.
 */
export class BlockBufferPool {
  private readonly free: Buffer[] = []
  private readonly lent = new WeakSet<ArrayBufferLike>()

  constructor(
    private readonly capacity = KUBO_CHUNK_SIZE,
    private readonly keep = 32,
  ) {}

  /** A buffer of `length` bytes (contents undefined). */
  readonly take = (length: number): Buffer => {
    if (length > this.capacity) return Buffer.allocUnsafeSlow(length)
    const buffer = this.free.pop() ?? Buffer.allocUnsafeSlow(this.capacity)
    this.lent.add(buffer.buffer)
    return buffer.subarray(0, length)
  }

  /** Returns the buffer under `view` (any view of a taken buffer); other memory is ignored. */
  release(view: Uint8Array): void {
    if (!this.lent.delete(view.buffer)) return
    if (this.free.length < this.keep) this.free.push(Buffer.from(view.buffer, 0, this.capacity))
  }
}

export interface FileInfo {
  /** Content length in bytes. */
  size: number
}

/** The file's size from its root block; refuses directories and other non-file nodes. */
export async function fileInfo(blocks: BlockReader, root: CID): Promise<FileInfo> {
  const bytes = await blocks.bytes(root)
  if (root.code === raw.code) return { size: bytes.byteLength }
  const node = unixfsNode(root, bytes)
  if (node.type === 'directory' || node.type === 'hamt-sharded-directory') {
    throw new InvalidArgumentError('this dag node is a directory')
  }
  if (node.type !== 'file' && node.type !== 'raw') {
    throw new InvalidArgumentError(`this dag node is a ${node.type}, not a file`)
  }
  return { size: Number(node.fileSize()) }
}

/**
 * Yields bytes [offset, offset + length) of the file at `root`. Throws `BlockNotFoundError` when a
 * block is missing, and `IpfsError` when the DAG disagrees with its own sizes.
 */
export async function* readFile(
  blocks: BlockReader,
  root: CID,
  { offset, length }: { offset: number; length: number },
  pool?: BlockBufferPool,
): AsyncGenerator<Uint8Array> {
  const from = offset
  const to = offset + length
  if (length <= 0) return
  const stack: Array<{ cid: CID; start: number }> = [{ cid: root, start: 0 }]
  const inflight = new Map<CID, Promise<Uint8Array>>()
  const load = (cid: CID) => {
    let p = inflight.get(cid)
    if (!p) {
      // Only raw leaves are recycled: every byte of them goes out, nothing else keeps a view.
      p = pool && cid.code === raw.code ? blocks.bytes(cid, pool.take) : blocks.bytes(cid)
      p.catch(() => undefined) // reported when the read reaches this block
      inflight.set(cid, p)
    }
    return p
  }
  let sent = 0

  while (stack.length > 0) {
    const { cid, start } = stack.pop() as { cid: CID; start: number }
    for (let i = stack.length - 1; i >= Math.max(0, stack.length - READ_AHEAD); i--) load(stack[i].cid)
    const bytes = await load(cid)
    inflight.delete(cid)

    let data: Uint8Array | undefined
    let children: Array<{ cid: CID; start: number; end: number }> = []
    if (cid.code === raw.code) {
      data = bytes
    } else {
      const pb = dagPb.decode(bytes)
      const node = unixfsNode(cid, bytes, pb)
      data = node.data
      if (pb.Links.length !== node.blockSizes.length) throw new IpfsError(`${cid}: links and block sizes disagree`)
      let at = start + (data?.byteLength ?? 0)
      children = pb.Links.map((link, i) => {
        const child = { cid: link.Hash, start: at, end: at + Number(node.blockSizes[i]) }
        at = child.end
        return child
      })
    }
    if (data && data.byteLength > 0) {
      const slice = data.subarray(Math.max(0, from - start), Math.max(0, Math.min(data.byteLength, to - start)))
      if (slice.byteLength > 0) {
        sent += slice.byteLength
        yield slice
      }
    }
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i]
      if (child.end > from && child.start < to) stack.push({ cid: child.cid, start: child.start })
    }
  }
  if (sent !== length) throw new IpfsError(`${root}: the DAG holds ${sent} of the ${length} bytes its root announces`)
}

function unixfsNode(cid: CID, bytes: Uint8Array, pb = dagPb.decode(bytes)): UnixFS {
  if (cid.code !== dagPb.code || pb.Data === undefined) {
    throw new InvalidArgumentError(`${cid} is not a UnixFS node (codec 0x${cid.code.toString(16)})`)
  }
  try {
    return UnixFS.unmarshal(pb.Data)
  } catch (err) {
    throw new InvalidArgumentError(`${cid} is not a UnixFS node`, { cause: err })
  }
}
