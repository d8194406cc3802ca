// Depth-first traversal of a DAG held in the repo: the order CAR responses use and the walk that
// proves a pin is complete.

import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { IpfsError } from '../errors'
import type { BlockReader } from '../repo/blocks'

// https://github.com/multiformats/multicodec/blob/master/table.csv: identity multihash.
const IDENTITY = 0x00
/** Blocks read ahead of the one being emitted, so disk latency overlaps with sending. */
const READ_AHEAD = 8

export interface WalkedBlock {
  cid: CID
  /** Absent for raw leaves when the walk was asked not to read them. */
  bytes?: Uint8Array
}

/**
 * Yields every block reachable from `root` once, in depth-first pre-order with links in the
 * order they appear in their parent (the trustless gateway's `order=dfs; dups=n`).
 * A missing block throws `BlockNotFoundError` when the walk reaches it.
 *
 * @param readLeaves false to only check that raw leaves exist (enough to prove a pin complete).
 */
export async function* walkDag(
  blocks: BlockReader,
  root: CID,
  { readLeaves }: { readLeaves: boolean },
): AsyncGenerator<WalkedBlock> {
  const needsBytes = (cid: CID) => readLeaves || cid.code !== raw.code
  const load = (cid: CID): Promise<Uint8Array | undefined> => {
    if (cid.multihash.code === IDENTITY) return Promise.resolve(cid.multihash.digest)
    if (needsBytes(cid)) return blocks.bytes(cid)
    return blocks.has(cid).then((held) => (held ? undefined : blocks.bytes(cid)))
  }

  const seen = new Set<string>()
  const stack: CID[] = [root]
  const pending = new Map<string, Promise<Uint8Array | undefined>>()
  const fetch = (cid: CID) => {
    const key = cid.toString()
    let p = pending.get(key)
    if (!p) {
      p = load(cid)
      // A read-ahead that fails is reported when the walk reaches it, not as an unhandled rejection.
      p.catch(() => undefined)
      pending.set(key, p)
    }
    return p
  }

  while (stack.length > 0) {
    const cid = stack.pop() as CID
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    for (let i = stack.length - 1; i >= Math.max(0, stack.length - READ_AHEAD); i--) {
      if (!seen.has(stack[i].toString())) fetch(stack[i])
    }
    const bytes = await fetch(cid)
    pending.delete(key)
    yield { cid, bytes }
    if (cid.code === dagPb.code) {
      const links = dagPb.decode(bytes as Uint8Array).Links
      for (let i = links.length - 1; i >= 0; i--) stack.push(links[i].Hash)
    } else if (cid.code !== raw.code) {
      throw new IpfsError(`cannot traverse ${key}: codec 0x${cid.code.toString(16)} is not supported`)
    }
  }
}
