// The repo's pack files: blocks survive a restart, repos written before packs keep working, and
// what a crash mid-upload leaves behind is cleared.

import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { kuboDefaults } from '../../ipfs/src/index'
import { seededBytes } from './support/bytes'
import { addLegacy } from './support/legacy-repo'
import { startTestNode, type TestNode } from './support/node'

const KiB = 1024

async function catAll(node: TestNode, cid: string): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of node.client.cat(cid)) parts.push(part)
  return Buffer.concat(parts)
}

let node: TestNode | undefined
afterEach(async () => {
  await node?.destroy()
  node = undefined
})

describe('pack files', () => {
  it('one upload writes one pack and its index, and its blocks are read back after a restart', async () => {
    node = await startTestNode()
    const bytes = seededBytes('packs/restart', 3 * 256 * KiB + 5)
    const { cid } = await node.client.add(bytes, { cidVersion: 1 })
    expect((await readdir(join(node.repo, 'blocks', 'packs'))).sort()).toEqual([
      expect.stringMatching(/\.idx$/),
      expect.stringMatching(/\.pack$/),
    ])
    node = await node.restart()
    expect((await catAll(node, cid.toString())).equals(bytes)).toBe(true)
    expect((await node.client.repo.stat()).numObjects).toBe(5n) // four leaves and a root
  })

  it('writes nothing for an upload whose blocks are all held already', async () => {
    node = await startTestNode()
    const bytes = seededBytes('packs/dedup', 300 * KiB)
    await node.client.add(bytes, { cidVersion: 1 })
    const before = await readdir(join(node.repo, 'blocks', 'packs'))
    await node.client.add(bytes, { cidVersion: 1 })
    expect(await readdir(join(node.repo, 'blocks', 'packs'))).toEqual(before)
  })

  it('removes a pack left without an index by a crash mid-upload', async () => {
    node = await startTestNode()
    await node.stop()
    await writeFile(join(node.repo, 'blocks', 'packs', 'crashed.pack'), seededBytes('packs/crash', 1000))
    node = await node.restart()
    expect(await readdir(join(node.repo, 'blocks', 'packs'))).toEqual([])
  })
})

describe('a repo written before pack files (one blockstore-fs file per block)', () => {
  it('serves, pins and counts its blocks, and new uploads of the same bytes reuse the CID', async () => {
    node = await startTestNode()
    await node.stop()
    const bytes = seededBytes('packs/legacy', 2 * 256 * KiB + 1)
    const cid = await addLegacy(node.repo, bytes, kuboDefaults(1))
    node = await node.restart()
    expect((await catAll(node, cid.toString())).equals(bytes)).toBe(true)
    expect((await node.client.block.stat(cid)).size).toBeGreaterThan(0)
    await node.client.pin.add(cid)
    expect((await node.client.repo.stat()).numObjects).toBe(4n) // three leaves and a root
    const again = await node.client.add(bytes, { cidVersion: 1 })
    expect(again.cid.toString()).toBe(cid.toString())
    // Held in both layouts now, counted once.
    expect((await node.client.repo.stat()).numObjects).toBe(4n)
  })
})
