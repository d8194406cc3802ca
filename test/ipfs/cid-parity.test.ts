// CIDs must equal Kubo's for the same bytes: CIDv0 against Debian's ipfs_cid, CIDv1 raw blocks
// against the CID spec, and the CIDv1 DAG shape against Kubo's layout rules.

import { createHash } from 'node:crypto'
import * as dagPb from '@ipld/dag-pb'
import { UnixFS } from 'ipfs-unixfs'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import cidv0 from '../vectors/ipfs-cidv0.json'
import cidv1Raw from '../vectors/ipfs-cidv1-raw.json'
import { pieces, seededBytes, vectorBytes } from './support/bytes'
import { rawCidV1 } from './support/cid-spec'
import { startTestNode, type TestNode } from './support/node'

const KiB = 1024
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')

async function catAll(node: TestNode, cid: string): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of node.client.cat(cid)) parts.push(part)
  return Buffer.concat(parts)
}

let node: TestNode
beforeAll(async () => {
  node = await startTestNode()
})
afterAll(async () => {
  await node.destroy()
})

describe('CIDv0 (Kubo defaults) against ipfs_cid vectors', () => {
  for (const v of cidv0.vectors) {
    it(`${v.name} → ${v.cidv0}`, async () => {
      const bytes = vectorBytes(v)
      expect(bytes.byteLength).toBe(v.size)
      // Streamed in 64 KiB pieces so chunk boundaries never line up with what the client sends.
      const added = await node.client.add(pieces(bytes, 64 * KiB))
      expect(added.cid.toString()).toBe(v.cidv0)
      expect(added.cid.version).toBe(0)
      const back = await catAll(node, added.cid.toString())
      expect(back.byteLength).toBe(v.size)
      expect(sha256(back)).toBe(sha256(bytes))
    })
  }

  it('only-hash gives the same CID and stores nothing', async () => {
    const v = cidv0.vectors.find((x) => x.size === 256 * KiB + 1) as (typeof cidv0.vectors)[number]
    const bytes = Buffer.from(vectorBytes(v))
    bytes[0] ^= 0xff // different bytes from the vector, so the blocks cannot already be held
    const hashed = await node.client.add(bytes, { onlyHash: true })
    const res = await node.rpc('block/stat', `arg=${hashed.cid}`)
    expect(res.status).toBe(404)
    const added = await node.client.add(bytes)
    expect(added.cid.toString()).toBe(hashed.cid.toString())
  })
})

describe('CIDv1 raw blocks against the CID spec', () => {
  for (const v of cidv1Raw.vectors) {
    it(`${v.name} → ${v.cidv1}`, async () => {
      const bytes = vectorBytes(v)
      // The vector file and the spec construction agree...
      expect(rawCidV1(bytes)).toBe(v.cidv1)
      // ...and so does the node, for a one-chunk file added as Kubo's --cid-version=1 would.
      const added = await node.client.add(bytes, { cidVersion: 1 })
      expect(added.cid.toString()).toBe(v.cidv1)
      expect(added.size).toBe(v.size)
      const stat = await node.client.block.stat(added.cid)
      expect(stat.size).toBe(v.size)
    })
  }
})

describe('CIDv1 multi-chunk DAG shape (Kubo: raw leaves, 256 KiB, balanced, 174 links)', () => {
  async function shape(bytes: Uint8Array, opts: Record<string, unknown> = { cidVersion: 1 }) {
    const added = await node.client.add(bytes, opts)
    return { cid: added.cid, size: added.size, root: dagPb.decode(await node.client.block.get(added.cid)) }
  }

  it('3 MiB + 12345: one root over 13 raw leaves, each the spec CID of its chunk', async () => {
    const bytes = seededBytes('stillflow/ipfs/3m', 3 * 1024 * KiB + 12_345)
    const { cid, root } = await shape(bytes)
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(dagPb.code)
    expect(root.Links).toHaveLength(13)
    root.Links.forEach((link, i) => {
      const chunk = bytes.subarray(i * 256 * KiB, (i + 1) * 256 * KiB)
      expect(link.Hash.toString()).toBe(rawCidV1(chunk))
      expect(link.Tsize).toBe(chunk.byteLength)
    })
    const unixfs = UnixFS.unmarshal(root.Data as Uint8Array)
    expect(unixfs.type).toBe('file')
    expect(unixfs.fileSize()).toBe(BigInt(bytes.byteLength))
  })

  it('more than 174 leaves: the root links to full 174-leaf subtrees', async () => {
    const bytes = seededBytes('stillflow/ipfs/v1-180', 180 * 256 * KiB)
    const { root } = await shape(bytes)
    expect(root.Links).toHaveLength(2)
    const first = dagPb.decode(await node.client.block.get(root.Links[0].Hash))
    const second = dagPb.decode(await node.client.block.get(root.Links[1].Hash))
    expect(first.Links).toHaveLength(174)
    expect(second.Links).toHaveLength(6)
    expect(first.Links[0].Hash.toString()).toBe(rawCidV1(bytes.subarray(0, 256 * KiB)))
    expect(second.Links[5].Hash.toString()).toBe(rawCidV1(bytes.subarray(179 * 256 * KiB)))
    for (const link of [...first.Links, ...second.Links]) expect(link.Hash.code).toBe(raw.code)
  })

  it('raw-leaves=false with CIDv1 wraps each chunk in a dag-pb UnixFS file node', async () => {
    const bytes = seededBytes('stillflow/ipfs/v1-pb', 2 * 256 * KiB)
    const { cid, root } = await shape(bytes, { cidVersion: 1, rawLeaves: false })
    expect(cid.version).toBe(1)
    for (const link of root.Links) {
      expect(link.Hash.code).toBe(dagPb.code)
      expect(link.Hash.version).toBe(1)
    }
  })

  it('chunker=size-N sets the leaf size', async () => {
    const bytes = seededBytes('stillflow/ipfs/chunker', 10_000)
    const { root } = await shape(bytes, { cidVersion: 1, chunker: 'size-4096' })
    expect(root.Links.map((l) => l.Tsize)).toEqual([4096, 4096, 1808])
    expect(root.Links[2].Hash.toString()).toBe(rawCidV1(bytes.subarray(8192)))
  })

  it('CIDv0 and CIDv1 roots differ but cat back the same bytes', async () => {
    const bytes = seededBytes('stillflow/ipfs/both', 300 * KiB)
    const v0 = await node.client.add(bytes)
    const v1 = await node.client.add(bytes, { cidVersion: 1 })
    expect(CID.asCID(v0.cid)?.version).toBe(0)
    expect(v1.cid.toString().startsWith('bafybei')).toBe(true)
    expect(sha256(await catAll(node, v0.cid.toString()))).toBe(sha256(bytes))
    expect(sha256(await catAll(node, v1.cid.toString()))).toBe(sha256(bytes))
  })
})
