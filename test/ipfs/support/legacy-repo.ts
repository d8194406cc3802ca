// Repos as the node wrote them before pack files: one blockstore-fs file per block under blocks/.

import { join } from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import { importBytes } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import { importerOptions, type LayoutSettings } from '../../../ipfs/src/unixfs/kubo-layout'

/** Imports `bytes` into `repo` in the pre-pack layout (the node may be running) and returns the root. */
export async function addLegacy(repo: string, bytes: Uint8Array, settings: LayoutSettings): Promise<CID> {
  const store = new FsBlockstore(join(repo, 'blocks'))
  await store.open()
  const { cid } = await importBytes(bytes, store, importerOptions(settings))
  await store.close()
  return cid
}

/** Where the pre-pack layout keeps a block. */
export function legacyBlockPath(repo: string, cid: CID): string {
  const { dir, file } = new NextToLast().encode(cid)
  return join(repo, 'blocks', dir, file)
}
