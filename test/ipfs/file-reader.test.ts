// The UnixFS file reader behind `cat` and the gateway: any byte range of any DAG shape comes back
// exactly, and a consumer that stops pulling stops the disk reads (bounded read-ahead).

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../ipfs/src/index'
import { RepoBlocks } from '../../ipfs/src/repo/blocks'
import { importFile } from '../../ipfs/src/unixfs/file-importer'
import { BlockBufferPool, fileInfo, readFile } from '../../ipfs/src/unixfs/file-reader'
import type { LayoutSettings } from '../../ipfs/src/unixfs/kubo-layout'
import { seededBytes } from './support/bytes'

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return Buffer.concat(parts)
}

/** Imports `content` into the store as the node's add does: one pack, visible once sealed. */
async function store(content: Uint8Array[], settings: LayoutSettings): Promise<CID> {
  const writer = blocks.writer()
  const { cid } = await importFile(content, writer, settings)
  await writer.seal()
  return cid
}

let dir: string
let blocks: RepoBlocks
// Small chunks so that 200 KiB needs two tree levels (> 174 leaves) in both leaf styles.
const file = seededBytes('file-reader', 200 * 1024 + 7)
const shapes: Array<[string, LayoutSettings]> = [
  ['CIDv1 raw leaves', { cidVersion: 1, rawLeaves: true, chunkSize: 1024 }],
  ['CIDv0 dag-pb leaves', { cidVersion: 0, rawLeaves: false, chunkSize: 1024 }],
]
const roots = new Map<string, CID>()

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stillflow-file-reader-'))
  blocks = await RepoBlocks.open(dir)
  for (const [name, settings] of shapes) roots.set(name, await store([file], settings))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe.each(shapes.map(([name]) => name))('readFile over %s', (name) => {
  it('reports the file size from the root', async () => {
    expect(await fileInfo(blocks, roots.get(name) as CID)).toEqual({ size: file.byteLength })
  })

  it('returns exactly the requested range, for any range', async () => {
    const root = roots.get(name) as CID
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: file.byteLength }),
        fc.integer({ min: 0, max: file.byteLength }),
        async (offset, want) => {
          const length = Math.min(want, file.byteLength - offset)
          const got = await collect(readFile(blocks, root, { offset, length }))
          expect(got.equals(file.subarray(offset, offset + length))).toBe(true)
        },
      ),
      { numRuns: 60, seed: 20261122 },
    )
  })
})

it('refuses a directory node', async () => {
  // The well-known empty UnixFS directory: dag-pb whose Data is {Type: Directory}.
  const cid = CID.parse('QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn')
  const writer = blocks.writer()
  await writer.put(cid, [Uint8Array.from([0x0a, 0x02, 0x08, 0x01])], 4)
  await writer.seal()
  await expect(fileInfo(blocks, cid)).rejects.toThrow(InvalidArgumentError)
})

it('reads ahead a bounded number of blocks while the consumer is idle', async () => {
  const big = await store([seededBytes('read-ahead', 64 * 256 * 1024)], {
    cidVersion: 1,
    rawLeaves: true,
    chunkSize: 256 * 1024,
  })
  let reads = 0
  const counting = { bytes: (cid: CID) => (reads++, blocks.bytes(cid)), has: (cid: CID) => blocks.has(cid) }
  const reader = readFile(counting, big, { offset: 0, length: 64 * 256 * 1024 })[Symbol.asyncIterator]()
  await reader.next()
  await new Promise((resolve) => setImmediate(resolve))
  // The root, the first leaf and at most eight more in flight: not the 64 a greedy walk would read.
  expect(reads).toBeLessThanOrEqual(10)
  await reader.return?.(undefined)
})

describe('with a BlockBufferPool', () => {
  it('reads raw leaves into recycled buffers and returns the same bytes', async () => {
    const root = roots.get('CIDv1 raw leaves') as CID
    const pool = new BlockBufferPool(1024)
    const seen = new Set<ArrayBufferLike>()
    const parts: Buffer[] = []
    for await (const part of readFile(blocks, root, { offset: 0, length: file.byteLength }, pool)) {
      parts.push(Buffer.from(part)) // the copy a socket write makes before the buffer goes back
      seen.add(part.buffer)
      pool.release(part)
    }
    expect(Buffer.concat(parts).equals(file)).toBe(true)
    // 201 leaves went through a handful of buffers: read-ahead plus the one being sent.
    expect(seen.size).toBeLessThanOrEqual(10)
  })

  it('ignores memory it did not lend', () => {
    const pool = new BlockBufferPool(16)
    pool.release(new Uint8Array(16))
    const lent = pool.take(8)
    expect(lent.byteLength).toBe(8)
    expect(pool.take(32).byteLength).toBe(32) // larger than its buffers: a plain allocation
  })
})
