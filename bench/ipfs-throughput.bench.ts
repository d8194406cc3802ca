// IPFS add+cat throughput of the embedded node against raw SHA-256 + file write of the same bytes.
//
// Subject (HTTP, the headline): `add` (CIDv1, raw leaves, pinned) then `cat` of the whole file
// over the node's RPC API on 127.0.0.1, the node being its CLI in its own process as `npm start`
// runs it. The client is a lean node:http one (a streamed multipart body with Content-Length,
// then the response read as it comes), so the figure is the node's, not a client library's.
// The same round with kubo-rpc-client (what the product uses) is reported in the details, and
// so is the HTTP floor: the same client against a server that does no work (drains the upload,
// sends bytes from memory), the most any node on node:http could reach here.
// Subject (core): the node's own import and file reader in-process on its block store, no HTTP,
// to show how much of the cost is the transport. Baseline: one SHA-256 over the bytes and one
// writeFile of them. Throughput = bytes / (add time + cat time); ratio = subject / baseline.
//
// Fairness on a shared machine: every round uses fresh bytes (nothing to deduplicate) seen by
// every side, which must agree on the CID, a fresh store per side, and starts each timed phase after `sync` with the previous
// phase's files deleted, so no side pays for another's dirty page cache being written back.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { once } from 'node:events'
import { Agent, request } from 'node:http'
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { create } from 'kubo-rpc-client'
import { kuboDefaults } from '../ipfs/src/index'
// The core subject measures the node's own store, import and reader, below its public door.
import { RepoBlocks } from '../ipfs/src/repo/blocks'
import { importFile } from '../ipfs/src/unixfs/file-importer'
import { readFile } from '../ipfs/src/unixfs/file-reader'
import { type BenchResult, timeMs } from './lib'

const SIZE = 64 * 1024 * 1024
const ROUNDS = 5
const UPLOAD_CHUNK = 1024 * 1024
const TARGET = 0.5

/** Deterministic bytes: AES-256-CTR keystream under SHA-256(seed), zero IV. */
function bytesFor(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(seed).digest()
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size))
}

function* chunks(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size)
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0
  for await (const chunk of source) n += chunk.byteLength
  return n
}

function settle(): void {
  execFileSync('sync')
}

async function startNode(repo: string): Promise<{ child: ChildProcess; api: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'ipfs/src/cli.ts', '--repo', repo, '--api-port', '0', '--gateway-port', '0'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer]
  return { child, api: (JSON.parse(line.toString()) as { api: string }).api }
}

// Shaped like kubo-rpc-client's (29 dashes and a 21-character id): the node scans every upload
// for it, and how long it is changes how fast that scan goes.
const BOUNDARY = `${'-'.repeat(29)}stillflowbench0123456`

/** `POST /api/v0/add?cid-version=1` with `bytes` as one multipart file part, streamed in chunks. */
function leanAdd(api: string, agent: Agent, bytes: Uint8Array): Promise<string> {
  const head = Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="bench"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
  )
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`)
  return new Promise((resolve, reject) => {
    const req = request(
      `${api}/api/v0/add?cid-version=1`,
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': `multipart/form-data; boundary=${BOUNDARY}`,
          'Content-Length': head.byteLength + bytes.byteLength + tail.byteLength,
        },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (text: string) => (body += text))
        res.on('end', () => {
          if (res.statusCode === 200) resolve((JSON.parse(body) as { Hash: string }).Hash)
          else reject(new Error(`add: ${res.statusCode} ${body}`))
        })
      },
    )
    req.on('error', reject)
    void (async () => {
      req.write(head)
      for (const chunk of chunks(bytes, UPLOAD_CHUNK)) if (!req.write(chunk)) await once(req, 'drain')
      req.end(tail)
    })()
  })
}

/** `POST /api/v0/cat?arg=<cid>`, counting the bytes of the response as they arrive. */
function leanCat(api: string, agent: Agent, cid: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${api}/api/v0/cat?arg=${cid}`, { method: 'POST', agent }, (res) => {
      let n = 0
      res.on('data', (chunk: Buffer) => (n += chunk.byteLength))
      res.on('end', () => (res.statusCode === 200 ? resolve(n) : reject(new Error(`cat: ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end()
  })
}

/** Times add then cat of `bytes` against a fresh node; `cid` is checked against the other sides'. */
async function httpRound(
  repo: string,
  bytes: Uint8Array,
  client: 'lean' | 'kubo-rpc-client' | 'floor',
): Promise<{ add: number; cat: number; cid: string }> {
  const node = client === 'floor' ? await startFloor() : await startNode(repo)
  const agent = new Agent({ keepAlive: true })
  try {
    let cid = ''
    let read = 0
    const kubo = create({ url: node.api })
    settle()
    const add = await timeMs(async () => {
      cid =
        client !== 'kubo-rpc-client'
          ? await leanAdd(node.api, agent, bytes)
          : (await kubo.add(chunks(bytes, UPLOAD_CHUNK), { cidVersion: 1 })).cid.toString()
    })
    const cat = await timeMs(async () => {
      read = client !== 'kubo-rpc-client' ? await leanCat(node.api, agent, cid) : await drain(kubo.cat(cid))
    })
    if (read !== SIZE) throw new Error(`${client} cat returned ${read} bytes, expected ${SIZE}`)
    return { add, cat, cid }
  } finally {
    agent.destroy()
    node.child.kill('SIGTERM')
    await once(node.child, 'exit')
    await rm(repo, { recursive: true, force: true })
  }
}

// The transport floor: a server that only drains the upload and sends back 64 MiB from memory,
// over the same sockets and client. No IPFS node built on node:http can beat it.
const FLOOR_SERVER = `
const http = require('node:http')
const { once } = require('node:events')
const size = ${SIZE}
const body = Buffer.alloc(size, 1)
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/api/v0/add')) {
    req.on('data', () => undefined)
    req.on('end', () => res.end('{"Hash":"floor"}\\n'))
    return
  }
  res.writeHead(200, { 'Content-Length': size })
  void (async () => {
    for (let at = 0; at < size; at += 262144) if (!res.write(body.subarray(at, at + 262144))) await once(res, 'drain')
    res.end()
  })()
})
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ api: 'http://127.0.0.1:' + server.address().port })))
`

async function startFloor(): Promise<{ child: ChildProcess; api: string }> {
  const child = spawn(process.execPath, ['-e', FLOOR_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [line] = (await once(child.stdout as NodeJS.ReadableStream, 'data')) as [Buffer]
  return { child, api: (JSON.parse(line.toString()) as { api: string }).api }
}

const mibPerS = (ms: number) => SIZE / (1024 * 1024) / (ms / 1000)

export default async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'stillflow-ipfs-bench-'))
  const none = { total: Infinity, add: 0, cat: 0 }
  const best = { baseline: Infinity, lean: { ...none }, kubo: { ...none }, floor: { ...none }, core: Infinity }
  const keep = (side: typeof none, r: { add: number; cat: number }) => {
    if (r.add + r.cat < side.total) Object.assign(side, { total: r.add + r.cat, add: r.add, cat: r.cat })
  }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const bytes = bytesFor(`ipfs-bench-${round}`, SIZE)
      const file = join(dir, `baseline-${round}`)
      settle()
      const baselineMs = await timeMs(async () => {
        createHash('sha256').update(bytes).digest()
        await writeFile(file, bytes)
      })
      best.baseline = Math.min(best.baseline, baselineMs)
      await unlink(file)

      const lean = await httpRound(join(dir, `lean-${round}`), bytes, 'lean')
      keep(best.lean, lean)
      const kubo = await httpRound(join(dir, `kubo-${round}`), bytes, 'kubo-rpc-client')
      keep(best.kubo, kubo)
      keep(best.floor, await httpRound(join(dir, `floor-${round}`), bytes, 'floor'))

      const coreDir = join(dir, `core-${round}`)
      const core = await RepoBlocks.open(coreDir)
      let coreCid = ''
      settle()
      const coreMs = await timeMs(async () => {
        const writer = core.writer() // as the node's add does
        const { cid } = await importFile(chunks(bytes, UPLOAD_CHUNK), writer, kuboDefaults(1))
        await writer.seal()
        const read = await drain(readFile(core, cid, { offset: 0, length: SIZE }))
        if (read !== SIZE) throw new Error(`core cat returned ${read} bytes, expected ${SIZE}`)
        coreCid = cid.toString()
      })
      best.core = Math.min(best.core, coreMs)
      await core.close()
      await rm(coreDir, { recursive: true, force: true })
      if (lean.cid !== coreCid || kubo.cid !== coreCid) {
        throw new Error(`CIDs differ: lean ${lean.cid}, kubo-rpc-client ${kubo.cid}, in-process ${coreCid}`)
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }

  const fmt = (ms: number) => `${mibPerS(ms).toFixed(0)} MiB/s`
  const ratio = (ms: number) => Number((best.baseline / ms).toFixed(3))
  const baseline = `sha256+write ${fmt(best.baseline)}`
  const result = (name: string, ms: number, details: Record<string, number>): BenchResult => ({
    name,
    baseline,
    subject: fmt(ms),
    ratio: best.baseline / ms,
    ratioMeaning: 'throughput',
    target: `≥ ${TARGET}`,
    pass: best.baseline / ms >= TARGET,
    details: { ...details, rounds: ROUNDS },
  })
  return [
    result('ipfs add+cat 64 MiB over HTTP (lean node:http client → node process, CIDv1)', best.lean.total, {
      addMiBps: Math.round(mibPerS(best.lean.add)),
      catMiBps: Math.round(mibPerS(best.lean.cat)),
      kuboRpcClientMiBps: Math.round(mibPerS(best.kubo.total)),
      kuboRpcClientRatio: ratio(best.kubo.total),
      kuboRpcClientAddMiBps: Math.round(mibPerS(best.kubo.add)),
      kuboRpcClientCatMiBps: Math.round(mibPerS(best.kubo.cat)),
      httpFloorMiBps: Math.round(mibPerS(best.floor.total)),
      httpFloorRatio: ratio(best.floor.total),
      loadAverage1m: Number(loadavg()[0].toFixed(2)),
    }),
    result("ipfs add+cat 64 MiB in-process (the node's import + reader, no HTTP)", best.core, {}),
  ]
}
