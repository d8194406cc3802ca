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
import { fileInfo, readFile } from '../../ipfs/src/unixfs/file-reader'
import { importFile, type LayoutSettings } from '../../ipfs/src/unixfs/kubo-layout'
import { seededBytes } from './support/bytes'

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = []
  for await (const part of source) parts.push(part)
  return Buffer.concat(parts)
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
  for (const [name, settings] of shapes) roots.set(name, (await importFile([file], blocks, settings)).cid)
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
  await blocks.put(cid, Uint8Array.from([0x0a, 0x02, 0x08, 0x01]))
  await expect(fileInfo(blocks, cid)).rejects.toThrow(InvalidArgumentError)
})

it('reads ahead a bounded number of blocks while the consumer is idle', async () => {
  const big = (
    await importFile([seededBytes('read-ahead', 64 * 256 * 1024)], blocks, {
      cidVersion: 1,
      rawLeaves: true,
      chunkSize: 256 * 1024,
    })
  ).cid
  let reads = 0
  const counting = { bytes: (cid: CID) => (reads++, blocks.bytes(cid)), has: (cid: CID) => blocks.has(cid) }
  const reader = readFile(counting, big, { offset: 0, length: 64 * 256 * 1024 })[Symbol.asyncIterator]()
  await reader.next()
  await new Promise((resolve) => setImmediate(resolve))
  // The root, the first leaf and at most eight more in flight: not the 64 a greedy walk would read.
  expect(reads).toBeLessThanOrEqual(10)
  await reader.return?.(undefined)
})
