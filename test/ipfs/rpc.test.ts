// The Kubo RPC subset, driven by kubo-rpc-client where a client would use it and by raw fetch for
// the error shapes no well-behaved client produces.

import { rm } from 'node:fs/promises'
import { request } from 'node:http'
import { connect } from 'node:net'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kuboDefaults } from '../../ipfs/src/index'
import { seededBytes } from './support/bytes'
import { rawCidV1 } from './support/cid-spec'
import { addLegacy, legacyBlockPath } from './support/legacy-repo'
import { multipart, startTestNode, type TestNode } from './support/node'

const HELLO = 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o'
// A well-formed CID this node is never given.
const ABSENT = rawCidV1(Buffer.from('never added'))
const MAX_UPLOAD = 4 * 1024 * 1024

async function catText(node: TestNode, cid: string, opts: { offset?: number; length?: number } = {}): Promise<string> {
  const parts: Uint8Array[] = []
  for await (const part of node.client.cat(cid, opts)) parts.push(part)
  return Buffer.concat(parts).toString('utf8')
}

async function expectKuboError(res: Response, status: number, message: RegExp): Promise<void> {
  expect(res.status).toBe(status)
  expect(res.headers.get('content-type')).toMatch(/^application\/json/)
  const body = await res.json()
  expect(body).toEqual({ Message: expect.stringMatching(message), Code: status === 400 ? 1 : 0, Type: 'error' })
}

let node: TestNode
beforeAll(async () => {
  node = await startTestNode({ maxUploadBytes: MAX_UPLOAD })
})
afterAll(async () => {
  await node.destroy()
})

describe('POST /api/v0/add', () => {
  it("answers one {Name, Hash, Size} line per file, Size as Kubo's decimal string", async () => {
    const body = multipart('b0', [
      {
        headers: [
          'Content-Disposition: form-data; name="file"; filename="a.txt"',
          'Content-Type: application/octet-stream',
        ],
        body: 'hello world\n',
      },
      { headers: ['Content-Disposition: form-data; name="file-1"; filename=""'], body: 'second' },
    ])
    const res = await node.rpc('add', 'pin=false', {
      body,
      headers: { 'content-type': 'multipart/form-data; boundary=b0' },
    })
    expect(res.status).toBe(200)
    const lines = (await res.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(lines[0]).toEqual({ Name: 'a.txt', Hash: HELLO, Size: '20' })
    // No filename: Kubo names the entry after its CID.
    expect(lines[1].Name).toBe(lines[1].Hash)
    expect(lines).toHaveLength(2)
  })

  it('decodes percent-encoded filenames as kubo-rpc-client sends them', async () => {
    const added = await node.client.add({ path: 'data set #1.bin', content: new TextEncoder().encode('x') })
    expect(added.path).toBe('data set #1.bin')
  })

  it('pins by default, and not with pin=false', async () => {
    const pinned = await node.client.add('pinned by default')
    const unpinned = await node.client.add('not pinned', { pin: false })
    const types = new Map<string, string>()
    for await (const p of node.client.pin.ls({ type: 'recursive' })) types.set(p.cid.toString(), p.type)
    expect(types.get(pinned.cid.toString())).toBe('recursive')
    expect(types.has(unpinned.cid.toString())).toBe(false)
  })

  it('emits Bytes progress lines when progress=true, which the client reports', async () => {
    const seen: number[] = []
    await node.client.add(seededBytes('progress', 1000), { progress: (bytes: number) => seen.push(bytes) })
    expect(seen).toContain(1000)
  })

  it('accepts a 1 KiB-chunked streamed upload of several MiB without buffering it whole', async () => {
    const bytes = seededBytes('stream', 3 * 1024 * 1024)
    async function* slowly() {
      for (let at = 0; at < bytes.length; at += 1024) yield bytes.subarray(at, at + 1024)
    }
    const added = await node.client.add(slowly(), { cidVersion: 1 })
    const back: Uint8Array[] = []
    for await (const part of node.client.cat(added.cid)) back.push(part)
    expect(Buffer.concat(back).equals(bytes)).toBe(true)
  })

  describe('refuses', () => {
    const form = (body: string, boundary = 'XB') => ({
      body,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    })

    it.each([
      [
        'a body that is not multipart',
        { body: 'x', headers: { 'content-type': 'text/plain' } },
        /multipart\/form-data/,
      ],
      [
        'a multipart type without boundary',
        { body: 'x', headers: { 'content-type': 'multipart/form-data' } },
        /boundary/,
      ],
      [
        'a body that ends before its closing delimiter',
        form('--XB\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc'),
        /unexpected end/,
      ],
      ['a body with no delimiter at all', form('just bytes'), /unexpected end/],
      [
        'a part without Content-Disposition',
        form('--XB\r\nContent-Type: text/plain\r\n\r\nabc\r\n--XB--\r\n'),
        /Content-Disposition/,
      ],
      ['a part header line without a colon', form('--XB\r\ngarbage\r\n\r\nabc\r\n--XB--\r\n'), /malformed multipart/],
      ['a body with no parts', form('--XB--\r\n'), /file argument 'path' is required/],
      [
        'a directory part',
        form(
          '--XB\r\nContent-Disposition: form-data; name="dir"; filename="d"\r\nContent-Type: application/x-directory\r\n\r\n\r\n--XB--\r\n',
        ),
        /only files/,
      ],
      [
        'a file inside a directory',
        form('--XB\r\nContent-Disposition: form-data; name="file"; filename="d%2Fa"\r\n\r\nabc\r\n--XB--\r\n'),
        /only files/,
      ],
      [
        'oversized part headers',
        form(
          `--XB\r\nContent-Disposition: form-data; name="file"\r\nX-Pad: ${'p'.repeat(20_000)}\r\n\r\nabc\r\n--XB--\r\n`,
        ),
        /too large/,
      ],
    ])('%s with 400', async (_name, init, message) => {
      await expectKuboError(await node.rpc('add', '', init), 400, message)
    })

    it.each([
      ['cid-version=2', /unknown CID version/],
      ['cid-version=x', /cid-version/],
      ['raw-leaves=maybe', /not a boolean/],
      ['chunker=rabin', /only size-N/],
      ['chunker=size-0', /greater than 0/],
      ['chunker=size-2000000', /maximum chunk size of 1048576/],
      ['hash=blake3', /only sha2-256/],
      ['trickle=true', /"trickle" is not supported/],
      ['wrap-with-directory=true', /not supported/],
      ['mtime=5', /"mtime" is not supported/],
    ])('option %s with 400, before reading the body', async (query, message) => {
      const body = multipart('b', [{ headers: ['Content-Disposition: form-data; name="file"'], body: 'x' }])
      const res = await node.rpc('add', query, { body, headers: { 'content-type': 'multipart/form-data; boundary=b' } })
      await expectKuboError(res, 400, message)
    })

    it('a declared Content-Length over the limit with 413', async () => {
      const body = multipart('b', [
        { headers: ['Content-Disposition: form-data; name="file"'], body: seededBytes('big', MAX_UPLOAD + 1) },
      ])
      const res = await node.rpc('add', '', { body, headers: { 'content-type': 'multipart/form-data; boundary=b' } })
      await expectKuboError(res, 413, new RegExp(`upload limit of ${MAX_UPLOAD} bytes`))
    })

    it('a chunked upload that grows past the limit with 413, and stays up', async () => {
      const bytes = seededBytes('big-stream', MAX_UPLOAD + 64 * 1024)
      const status = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${node.apiUrl}/api/v0/add`,
          {
            method: 'POST',
            headers: { 'content-type': 'multipart/form-data; boundary=b', 'transfer-encoding': 'chunked' },
          },
          (res) => {
            let body = ''
            res.on('data', (d) => (body += d))
            res.on('end', () => resolve({ status: res.statusCode as number, body }))
          },
        )
        req.on('error', reject)
        req.write('--b\r\nContent-Disposition: form-data; name="file"\r\n\r\n')
        for (let at = 0; at < bytes.length; at += 64 * 1024) req.write(bytes.subarray(at, at + 64 * 1024))
        req.end('\r\n--b--\r\n')
      })
      expect(status.status).toBe(413)
      expect(JSON.parse(status.body)).toMatchObject({ Type: 'error', Message: expect.stringMatching(/upload limit/) })
      expect((await node.client.version()).version).toBeTruthy()
    })
  })
})

describe('POST /api/v0/cat', () => {
  it('streams the file, honouring offset and length', async () => {
    await node.client.add('hello world\n')
    expect(await catText(node, HELLO)).toBe('hello world\n')
    expect(await catText(node, HELLO, { offset: 6 })).toBe('world\n')
    expect(await catText(node, HELLO, { offset: 6, length: 5 })).toBe('world')
    expect(await catText(node, `/ipfs/${HELLO}`, { length: 100 })).toBe('hello world\n')
    expect(await catText(node, HELLO, { offset: 12 })).toBe('')
  })

  it('reads across leaf boundaries of a multi-chunk file', async () => {
    const bytes = seededBytes('cat-range', 600 * 1024)
    const { cid } = await node.client.add(bytes, { cidVersion: 1 })
    const parts: Uint8Array[] = []
    for await (const p of node.client.cat(cid, { offset: 262_000, length: 300_000 })) parts.push(p)
    expect(Buffer.concat(parts).equals(bytes.subarray(262_000, 562_000))).toBe(true)
  })

  it.each([
    ['no argument', '', 400, /argument "ipfs-path" is required/],
    ['an invalid CID', 'arg=notacid', 400, /invalid path "notacid"/],
    ['a path below a CID', `arg=/ipfs/${HELLO}/x`, 400, /paths below a CID/],
    ['a negative offset', `arg=${HELLO}&offset=-1`, 400, /offset/],
    ['an offset past the end', `arg=${HELLO}&offset=13`, 400, /offset was past the end of file \(13 > 12\)/],
    ['an unknown CID', `arg=${ABSENT}`, 404, /block was not found locally/],
  ])('answers %s with %i', async (_name, query, status, message) => {
    await expectKuboError(await node.rpc('cat', query), status, message)
  })
})

describe('pins', () => {
  it('pin/add, pin/ls (all, by type, by arg, indirect) and pin/rm', async () => {
    const bytes = seededBytes('pins', 300 * 1024)
    const { cid } = await node.client.add(bytes, { cidVersion: 1, pin: false })
    const root = dagLinks(await node.client.block.get(cid))
    expect((await node.client.pin.add(cid)).toString()).toBe(cid.toString())

    const all = new Map<string, string>()
    for await (const p of node.client.pin.ls()) all.set(p.cid.toString(), p.type)
    expect(all.get(cid.toString())).toBe('recursive')
    for (const leaf of root) expect(all.get(leaf)).toBe('indirect')

    const [byArg] = await collect(node.client.pin.ls({ paths: [CID.parse(root[0])] }))
    expect(byArg.type).toBe(`indirect through ${cid}`)

    const direct = await node.client.add('direct pin', { pin: false })
    await node.client.pin.add(direct.cid, { recursive: false })
    const directOnly = await collect(node.client.pin.ls({ type: 'direct' }))
    expect(directOnly.map((p) => p.cid.toString())).toEqual([direct.cid.toString()])

    // Non-streaming shape, as older clients and curl users see it.
    const res = await node.rpc('pin/ls', `arg=${cid}`)
    expect(await res.json()).toEqual({ Keys: { [cid.toString()]: { Type: 'recursive', Name: '' } } })

    expect((await node.client.pin.rm(cid)).toString()).toBe(cid.toString())
    await expectKuboError(await node.rpc('pin/ls', `arg=${cid}`), 400, /is not pinned/)
    await node.client.pin.rm(direct.cid)
  })

  it("keeps Kubo's rules between direct and recursive pins", async () => {
    const { cid } = await node.client.add('rules', { pin: false })
    await node.client.pin.add(cid)
    await expectKuboError(await node.rpc('pin/add', `arg=${cid}&recursive=false`), 400, /already pinned recursively/)
    await expectKuboError(await node.rpc('pin/rm', `arg=${cid}&recursive=false`), 400, /is pinned recursively/)
    await node.client.pin.rm(cid)
    await expectKuboError(await node.rpc('pin/rm', `arg=${cid}`), 400, /not pinned/)
  })

  it.each([
    ['pin/add', `arg=${ABSENT}`, 404, /not found locally/],
    ['pin/add', '', 400, /argument "ipfs-path" is required/],
    ['pin/add', 'arg=zzz', 400, /invalid path/],
    ['pin/rm', 'arg=zzz', 400, /invalid path/],
    ['pin/ls', 'type=sideways', 400, /invalid type 'sideways'/],
  ])('%s?%s → %i', async (command, query, status, message) => {
    await expectKuboError(await node.rpc(command, query), status, message)
  })

  it('refuses a recursive pin of a DAG with a block missing', async () => {
    // A DAG in the pre-pack layout (one file per block, still read), then the second leaf's file
    // removed the way a disk fault would.
    const cid = await addLegacy(node.repo, seededBytes('partial', 300 * 1024), kuboDefaults(1))
    const [, second] = dagLinks(await node.client.block.get(cid))
    await rm(legacyBlockPath(node.repo, CID.parse(second)))
    await expectKuboError(await node.rpc('pin/add', `arg=${cid}`), 404, new RegExp(second))
  })
})

describe('blocks, version, repo', () => {
  it('block/stat and block/get return the stored block', async () => {
    const { cid } = await node.client.add('block bytes', { cidVersion: 1 })
    expect(await node.client.block.stat(cid)).toEqual({ cid, size: 11 })
    expect(Buffer.from(await node.client.block.get(cid)).toString()).toBe('block bytes')
    await expectKuboError(await node.rpc('block/stat', `arg=${ABSENT}`), 404, /not found locally/)
    await expectKuboError(await node.rpc('block/get', `arg=${ABSENT}`), 404, /not found locally/)
    await expectKuboError(await node.rpc('block/get', ''), 400, /argument "cid" is required/)
  })

  it("version answers in Kubo's shape", async () => {
    const v = await node.client.version()
    expect(v).toMatchObject({
      version: expect.any(String),
      repo: expect.any(String),
      system: expect.stringContaining('/'),
    })
  })

  it('repo/stat counts blocks and bytes', async () => {
    const before = await node.client.repo.stat()
    await node.client.add(seededBytes('repo-stat', 2 * 256 * 1024), { cidVersion: 1 })
    const after = await node.client.repo.stat()
    expect(after.numObjects - before.numObjects).toBe(3n) // two leaves and a root
    expect(after.repoSize - before.repoSize).toBeGreaterThanOrEqual(2n * 256n * 1024n)
    expect(after.storageMax).toBeGreaterThan(after.repoSize)
    const sizeOnly = await (await node.rpc('repo/stat', 'size-only=true')).json()
    expect(Object.keys(sizeOnly).sort()).toEqual(['RepoSize', 'StorageMax'])
  })
})

describe('routing', () => {
  it.each(['add', 'cat', 'version', 'pin/ls', 'block/get'])(
    'GET /api/v0/%s → 405, as Kubo refuses GET',
    async (command) => {
      const res = await fetch(`${node.apiUrl}/api/v0/${command}`)
      expect(res.headers.get('allow')).toBe('POST')
      await expectKuboError(res, 405, /POST only/)
    },
  )

  it('unknown commands → 404', async () => {
    await expectKuboError(await node.rpc('swarm/peers'), 404, /unknown command/)
    await expectKuboError(await fetch(`${node.apiUrl}/ipfs/${HELLO}`), 404, /unknown command/)
  })

  it('a request line Node cannot parse gets 400 and the node stays up', async () => {
    const url = new URL(node.apiUrl)
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => socket.write('NOT HTTP AT ALL\r\n\r\n'))
      let text = ''
      socket.on('data', (d) => (text += d))
      socket.on('close', () => resolve(text))
    })
    expect(reply).toMatch(/^HTTP\/1.1 400/)
    expect((await node.client.version()).version).toBeTruthy()
  })
})

describe('persistence', () => {
  it('blocks and pins survive a restart on the same repo', async () => {
    const { cid } = await node.client.add('survives restart', { cidVersion: 1 })
    node = await node.restart()
    expect(await catText(node, cid.toString())).toBe('survives restart')
    const pins = await collect(node.client.pin.ls({ paths: [cid] }))
    expect(pins[0].type).toBe('recursive')
  })

  it('a second node on the same repo is refused while the first runs', async () => {
    await expect(startTestNode({}, node.repo)).rejects.toThrow(/locked by process/)
  })
})

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const x of source) out.push(x)
  return out
}

function dagLinks(block: Uint8Array): string[] {
  return dagPb.decode(block).Links.map((l) => l.Hash.toString())
}
