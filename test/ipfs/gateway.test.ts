// GET /ipfs/<cid>: raw blocks and CARs a client can verify without trusting the node
// (https://specs.ipfs.tech/http-gateways/trustless-gateway/), and plain file bytes.

import { createHash } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { CarReader } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kuboDefaults } from '../../ipfs/src/index'
import { seededBytes } from './support/bytes'
import { rawCidV1 } from './support/cid-spec'
import { addLegacy, legacyBlockPath } from './support/legacy-repo'
import { startTestNode, type TestNode } from './support/node'

const KiB = 1024
const ABSENT = rawCidV1(Buffer.from('never added'))

let node: TestNode
let file: Buffer
let cid: CID
beforeAll(async () => {
  node = await startTestNode()
  file = seededBytes('gateway', 600 * KiB) // three raw leaves under one dag-pb root
  cid = (await node.client.add(file, { cidVersion: 1 })).cid
})
afterAll(async () => {
  await node.destroy()
})

const get = (path: string, init: RequestInit = {}) => fetch(`${node.gatewayUrl}${path}`, init)

/** Every block's bytes hash to its CID, and the roots are as expected: what a trustless client checks. */
async function verifiedCar(bytes: Uint8Array, root: CID) {
  const reader = await CarReader.fromBytes(bytes)
  expect((await reader.getRoots()).map(String)).toEqual([root.toString()])
  const blocks: Array<{ cid: CID; bytes: Uint8Array }> = []
  for await (const block of reader.blocks()) {
    expect(block.cid.multihash.code).toBe(sha256.code)
    expect(Buffer.from((await sha256.digest(block.bytes)).digest).equals(Buffer.from(block.cid.multihash.digest))).toBe(
      true,
    )
    blocks.push(block)
  }
  return blocks
}

describe('raw blocks', () => {
  it.each([
    ['Accept: application/vnd.ipld.raw', '', { accept: 'application/vnd.ipld.raw' }],
    ['?format=raw', '?format=raw', {}],
  ])('%s returns the single block, verifiable by its CID', async (_name, query, headers) => {
    const res = await get(`/ipfs/${cid}${query}`, { headers })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/vnd.ipld.raw')
    expect(res.headers.get('x-ipfs-path')).toBe(`/ipfs/${cid}`)
    expect(res.headers.get('etag')).toBe(`"${cid}.raw"`)
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${cid}.bin"`)
    expect(res.headers.get('cache-control')).toContain('immutable')
    const body = new Uint8Array(await res.arrayBuffer())
    expect(Buffer.from((await sha256.digest(body)).digest).equals(Buffer.from(cid.multihash.digest))).toBe(true)
    expect(dagPb.decode(body).Links).toHaveLength(3)
  })

  it('serves a raw leaf CID as its bytes', async () => {
    const leaf = rawCidV1(file.subarray(0, 256 * KiB))
    const res = await get(`/ipfs/${leaf}?format=raw`)
    expect(Buffer.from(await res.arrayBuffer()).equals(file.subarray(0, 256 * KiB))).toBe(true)
  })
})

describe('CAR', () => {
  it.each([
    ['Accept: application/vnd.ipld.car', '', { accept: 'application/vnd.ipld.car' }],
    ['Accept with version=1 among others', '', { accept: 'text/html, application/vnd.ipld.car;version=1;order=dfs' }],
    ['?format=car', '?format=car', {}],
  ])('%s streams a CARv1 of the whole DAG in depth-first order', async (_name, query, headers) => {
    const res = await get(`/ipfs/${cid}${query}`, { headers })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/vnd.ipld.car; version=1; order=dfs; dups=n')
    expect(res.headers.get('etag')).toMatch(/^W\/".+\.car\./)
    expect(res.headers.get('x-ipfs-path')).toBe(`/ipfs/${cid}`)
    const blocks = await verifiedCar(new Uint8Array(await res.arrayBuffer()), cid)
    expect(blocks.map((b) => b.cid.toString())).toEqual([
      cid.toString(),
      ...dagPb.decode(blocks[0].bytes).Links.map((l) => l.Hash.toString()),
    ])
    // The leaves, in order, are the file.
    expect(Buffer.concat(blocks.slice(1).map((b) => b.bytes)).equals(file)).toBe(true)
  })

  it('sends a repeated block once (dups=n)', async () => {
    const zeros = Buffer.alloc(3 * 256 * KiB)
    const { cid: root } = await node.client.add(zeros, { cidVersion: 1 })
    const blocks = await verifiedCar(new Uint8Array(await (await get(`/ipfs/${root}?format=car`)).arrayBuffer()), root)
    expect(blocks).toHaveLength(2)
    expect(blocks[1].cid.code).toBe(raw.code)
  })

  it('dag-scope=block sends only the root', async () => {
    const res = await get(`/ipfs/${cid}?format=car&dag-scope=block`)
    const blocks = await verifiedCar(new Uint8Array(await res.arrayBuffer()), cid)
    expect(blocks.map((b) => b.cid.toString())).toEqual([cid.toString()])
  })

  it('a CIDv0 DAG (dag-pb leaves) round-trips too', async () => {
    const { cid: v0 } = await node.client.add(seededBytes('gateway-v0', 300 * KiB))
    const blocks = await verifiedCar(new Uint8Array(await (await get(`/ipfs/${v0}?format=car`)).arrayBuffer()), v0)
    expect(blocks).toHaveLength(3)
  })

  it('cuts the connection rather than end a CAR whose DAG is missing a block', async () => {
    // A DAG in the pre-pack layout (one file per block, still read) with its second leaf removed.
    const bytes = seededBytes('gateway-partial', 600 * KiB)
    const root = await addLegacy(node.repo, bytes, kuboDefaults(1))
    await rm(legacyBlockPath(node.repo, CID.parse(rawCidV1(bytes.subarray(256 * KiB, 512 * KiB)))))
    const res = await get(`/ipfs/${root}?format=car`)
    expect(res.status).toBe(200) // the header was already sent when the walk reached the hole
    await expect(res.arrayBuffer()).rejects.toThrow()
    expect((await node.client.version()).version).toBeTruthy()
  })
})

describe('file bytes', () => {
  it('a plain GET returns the UnixFS file', async () => {
    const res = await get(`/ipfs/${cid}`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(res.headers.get('content-length')).toBe(String(file.byteLength))
    expect(res.headers.get('etag')).toBe(`"${cid}"`)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    const body = Buffer.from(await res.arrayBuffer())
    expect(createHash('sha256').update(body).digest('hex')).toBe(createHash('sha256').update(file).digest('hex'))
  })

  it('an empty file has an empty body', async () => {
    const { cid: empty } = await node.client.add(new Uint8Array(0))
    const res = await get(`/ipfs/${empty}`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('')
  })
})

describe('HEAD and caching', () => {
  it.each(['', '?format=raw', '?format=car'])('HEAD /ipfs/<cid>%s sends the headers without a body', async (query) => {
    const headGet = await get(`/ipfs/${cid}${query}`)
    const head = await get(`/ipfs/${cid}${query}`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toBe(headGet.headers.get('content-type'))
    expect(head.headers.get('etag')).toBe(headGet.headers.get('etag'))
    expect((await head.arrayBuffer()).byteLength).toBe(0)
    await headGet.arrayBuffer()
  })

  it('If-None-Match with the Etag answers 304', async () => {
    const res = await get(`/ipfs/${cid}?format=raw`, { headers: { 'if-none-match': `"${cid}.raw"` } })
    expect(res.status).toBe(304)
  })
})

describe('errors', () => {
  it.each([
    ['an invalid CID', '/ipfs/not-a-cid', 400, /invalid path/],
    ['a path below the CID', `/ipfs/CID/sub/path`, 400, /paths below a CID/],
    ['an unsupported format', '/ipfs/CID?format=tar', 400, /unsupported format "tar"/],
    ['a bad dag-scope', '/ipfs/CID?format=car&dag-scope=most', 400, /dag-scope/],
    ['an unknown CID', `/ipfs/${ABSENT}`, 404, /not found locally/],
    ['a non-/ipfs path', '/ipns/example.com', 404, /no content/],
  ])('%s → %i', async (_name, path, status, message) => {
    const res = await get(path.replace('CID', cid.toString()))
    expect(res.status).toBe(status)
    expect(await res.json()).toEqual({
      Message: expect.stringMatching(message),
      Code: status === 400 ? 1 : 0,
      Type: 'error',
    })
  })

  it('a CAR version other than 1 → 400', async () => {
    const res = await get(`/ipfs/${cid}`, { headers: { accept: 'application/vnd.ipld.car; version=2' } })
    expect(res.status).toBe(400)
  })

  it('POST → 405 with Allow', async () => {
    const res = await get(`/ipfs/${cid}`, { method: 'POST' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD')
  })
})
