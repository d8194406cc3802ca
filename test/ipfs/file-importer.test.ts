// The node's own importer against the reference, ipfs-unixfs-importer with Kubo's settings: the
// same root, the same Size and the same blocks, byte for byte, for any size and any way the bytes
// arrive, in both CID versions and leaf styles.

import fc from 'fast-check'
import { importBytes } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { type BlockSink, discardBlocks } from '../../ipfs/src/repo/pack-file'
import { FileImporter, importFile } from '../../ipfs/src/unixfs/file-importer'
import {
  importerOptions,
  KUBO_CHUNK_SIZE,
  KUBO_MAX_LINKS,
  type LayoutSettings,
} from '../../ipfs/src/unixfs/kubo-layout'
import cidv0 from '../vectors/ipfs-cidv0.json'
import { seededBytes, vectorBytes } from './support/bytes'

type Blocks = Map<string, string>

async function reference(
  bytes: Uint8Array,
  settings: LayoutSettings,
): Promise<{ cid: string; size: number; blocks: Blocks }> {
  const blocks: Blocks = new Map()
  const store = {
    put: async (cid: CID, block: Uint8Array) => {
      blocks.set(cid.toString(), Buffer.from(block).toString('hex'))
      return cid
    },
  }
  const result = await importBytes(bytes, store, importerOptions(settings))
  return { cid: result.cid.toString(), size: Number(result.size), blocks }
}

async function ours(
  pieces: Uint8Array[],
  settings: LayoutSettings,
): Promise<{ cid: string; size: number; blocks: Blocks }> {
  const blocks: Blocks = new Map()
  const sink: BlockSink = {
    put: (cid, parts, byteLength) => {
      const block = Buffer.concat(parts)
      expect(block.byteLength).toBe(byteLength)
      blocks.set(cid.toString(), block.toString('hex'))
      return undefined
    },
  }
  const result = await importFile(pieces, sink, settings)
  return { cid: result.cid.toString(), size: result.size, blocks }
}

/** `bytes` cut at the given offsets (sorted, deduplicated), so chunk and piece edges fall anywhere. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const edges = [...new Set(at.map((x) => x % (bytes.byteLength + 1)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let from = 0
  for (const edge of [...edges, bytes.byteLength]) {
    out.push(bytes.subarray(from, edge)) // empty pieces included: a client may send them
    from = edge
  }
  return out
}

const STYLES: Array<[string, Omit<LayoutSettings, 'chunkSize'>]> = [
  ['CIDv1, raw leaves', { cidVersion: 1, rawLeaves: true }],
  ['CIDv0, file leaves', { cidVersion: 0, rawLeaves: false }],
  ['CIDv1, file leaves', { cidVersion: 1, rawLeaves: false }],
  ['CIDv0, raw leaves', { cidVersion: 0, rawLeaves: true }],
]

describe.each(STYLES)('FileImporter, %s, against ipfs-unixfs-importer', (_name, style) => {
  it('gives the same root, Size and blocks for any size and any cut (small chunks)', async () => {
    await fc.assert(
      fc.asyncProperty(
        // 64-byte chunks: up to 200 leaves, so one and two tree levels both come up.
        fc.integer({ min: 0, max: 200 * 64 + 63 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.string(),
        async (size, edges, seed) => {
          const settings = { ...style, chunkSize: 64 }
          const bytes = seededBytes(`importer/${seed}`, size)
          expect(await ours(cut(bytes, edges), settings)).toEqual(await reference(bytes, settings))
        },
      ),
      { numRuns: 120, seed: 20261122 },
    )
  })

  it.each([0, 1, KUBO_CHUNK_SIZE - 1, KUBO_CHUNK_SIZE, KUBO_CHUNK_SIZE + 1, 3 * KUBO_CHUNK_SIZE + 12_345])(
    'gives the same DAG at Kubo’s 256 KiB chunks for %i bytes',
    async (size) => {
      const settings = { ...style, chunkSize: KUBO_CHUNK_SIZE }
      const bytes = seededBytes(`importer/kubo/${size}`, size)
      expect(await ours(cut(bytes, [65_536, 100_000, 262_143, 700_001]), settings)).toEqual(
        await reference(bytes, settings),
      )
    },
  )

  it('gives the same DAG with more than 174 × 174 leaves (three levels, a parent of one)', async () => {
    const settings = { ...style, chunkSize: 16 }
    const bytes = seededBytes('importer/three-levels', (KUBO_MAX_LINKS * KUBO_MAX_LINKS + 1) * 16 + 5)
    expect(await ours([bytes], settings)).toEqual(await reference(bytes, settings))
  })
})

describe('FileImporter at Kubo defaults', () => {
  it('gives the same CIDv1 DAG as ipfs-unixfs-importer with more than 174 leaves of 256 KiB', async () => {
    const settings = { cidVersion: 1 as const, rawLeaves: true, chunkSize: KUBO_CHUNK_SIZE }
    const bytes = seededBytes('importer/175-leaves', (KUBO_MAX_LINKS + 1) * KUBO_CHUNK_SIZE + 1)
    expect(await ours([bytes], settings)).toEqual(await reference(bytes, settings))
  })

  it.each(cidv0.vectors.map((v) => [v.name, v] as const))('matches the ipfs_cid vector %s', async (_name, v) => {
    const settings = { cidVersion: 0 as const, rawLeaves: false, chunkSize: KUBO_CHUNK_SIZE }
    expect((await importFile(cut(vectorBytes(v), [4096, 300_000]), discardBlocks, settings)).cid.toString()).toBe(
      v.cidv0,
    )
  })

  it('asks the caller to wait while the sink is full, and only then', async () => {
    let release!: () => void
    const full = new Promise<void>((resolve) => (release = resolve))
    let puts = 0
    const sink: BlockSink = { put: () => (++puts === 2 ? full : undefined) }
    const importer = new FileImporter(sink, { cidVersion: 1, rawLeaves: true, chunkSize: 4 })
    expect(importer.write(new Uint8Array(4))).toBeUndefined()
    const wait = importer.write(new Uint8Array(6))
    expect(wait).toBeInstanceOf(Promise)
    release()
    await wait
    await importer.end()
    expect(puts).toBe(4) // three leaves (4 + 4 + 2 bytes) and their parent
  })
})
