// A CARv1 of a DAG, produced block by block so a large file is never assembled in memory.
//
// CARv1 (https://ipld.io/specs/transport/car/carv1/): varint(len) ‖ dag-cbor {version: 1, roots},
// then for each block varint(len(cid) + len(data)) ‖ cid ‖ data.

import * as CarBufferWriter from '@ipld/car/buffer-writer'
import { varint } from 'multiformats'
import type { CID } from 'multiformats/cid'
import type { BlockReader } from '../repo/blocks'
import { walkDag } from './dag-walk'

export type DagScope = 'all' | 'entity' | 'block'

/**
 * Yields the CAR bytes for `root`. A block missing part-way throws from the iterator, so the
 * caller can abort the response instead of sending a CAR that looks complete.
 *
 * @param scope 'block' sends only the root; for a UnixFS file 'entity' and 'all' are the same DAG.
 */
export async function* carStream(blocks: BlockReader, root: CID, scope: DagScope = 'all'): AsyncGenerator<Uint8Array> {
  yield carHeader(root)
  if (scope === 'block') {
    yield* blockSection(root, await blocks.bytes(root))
    return
  }
  for await (const block of walkDag(blocks, root, { readLeaves: true })) {
    yield* blockSection(block.cid, block.bytes as Uint8Array)
  }
}

export function carHeader(root: CID): Uint8Array {
  const length = CarBufferWriter.headerLength({ roots: [root] })
  return CarBufferWriter.createWriter(new ArrayBuffer(length), { roots: [root] }).close()
}

function* blockSection(cid: CID, bytes: Uint8Array): Generator<Uint8Array> {
  const length = cid.bytes.byteLength + bytes.byteLength
  const prefix = new Uint8Array(varint.encodingLength(length) + cid.bytes.byteLength)
  varint.encodeTo(length, prefix, 0)
  prefix.set(cid.bytes, prefix.byteLength - cid.bytes.byteLength)
  yield prefix
  yield bytes
}
