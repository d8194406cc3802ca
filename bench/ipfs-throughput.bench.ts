// IPFS add+cat throughput of the embedded node against raw SHA-256 + file write of the same bytes.
//
// Subject (HTTP): kubo-rpc-client `add` (CIDv1, raw leaves, pinned) then `cat` of the whole file,
// against the node's CLI running as its own process on 127.0.0.1, as `npm start` runs it.
// Subject (core): the node's own import and file reader in-process on its block store, no HTTP,
// to show how much of the cost is the transport. Baseline: one SHA-256 over the bytes and one
// writeFile of them. Throughput = bytes / (add time + cat time); ratio = subject / baseline.
//
// Fairness on a shared machine: every round uses fresh bytes (nothing to deduplicate) seen by
// all three sides, a fresh store, and starts each timed phase after `sync` with the previous
// phase's files deleted, so no side pays for another's dirty page cache being written back.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createCipheriv, createHash } from 'node:crypto'
import { once } from 'node:events'
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { create } from 'kubo-rpc-client'
import { kuboDefaults } from '../ipfs/src/index'
// The core subject measures the node's own store, import and reader, below its public door.
import { RepoBlocks } from '../ipfs/src/repo/blocks'
import { WriteBehind } from '../ipfs/src/repo/write-behind'
import { readFile } from '../ipfs/src/unixfs/file-reader'
import { importFile } from '../ipfs/src/unixfs/kubo-layout'
import { type BenchResult, timeMs } from './lib'

const SIZE = 64 * 1024 * 1024
const ROUNDS = 3
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

const mibPerS = (ms: number) => SIZE / (1024 * 1024) / (ms / 1000)

export default async function run(): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'stillflow-ipfs-bench-'))
  const best = { baseline: Infinity, http: Infinity, add: 0, cat: 0, core: Infinity }
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

      const repo = join(dir, `node-${round}`)
      const node = await startNode(repo)
      try {
        const client = create({ url: node.api })
        let cid = ''
        settle()
        const addMs = await timeMs(async () => {
          cid = (await client.add(chunks(bytes, UPLOAD_CHUNK), { cidVersion: 1 })).cid.toString()
        })
        let read = 0
        const catMs = await timeMs(async () => {
          read = await drain(client.cat(cid))
        })
        if (read !== SIZE) throw new Error(`cat returned ${read} bytes, expected ${SIZE}`)
        if (addMs + catMs < best.http) Object.assign(best, { http: addMs + catMs, add: addMs, cat: catMs })
      } finally {
        node.child.kill('SIGTERM')
        await once(node.child, 'exit')
        await rm(repo, { recursive: true, force: true })
      }

      const coreDir = join(dir, `core-${round}`)
      const core = await RepoBlocks.open(coreDir)
      settle()
      const coreMs = await timeMs(async () => {
        const store = new WriteBehind(core) // as the node's add does
        const { cid } = await importFile(chunks(bytes, UPLOAD_CHUNK), store, kuboDefaults(1))
        await store.flush()
        const read = await drain(readFile(core, cid, { offset: 0, length: SIZE }))
        if (read !== SIZE) throw new Error(`core cat returned ${read} bytes, expected ${SIZE}`)
      })
      best.core = Math.min(best.core, coreMs)
      await rm(coreDir, { recursive: true, force: true })
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }

  const fmt = (ms: number) => `${mibPerS(ms).toFixed(0)} MiB/s`
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
    result('ipfs add+cat 64 MiB over HTTP (kubo-rpc-client → node process, CIDv1)', best.http, {
      addMiBps: Math.round(mibPerS(best.add)),
      catMiBps: Math.round(mibPerS(best.cat)),
      addRatio: Number((best.baseline / best.add).toFixed(3)),
    }),
    result("ipfs add+cat 64 MiB in-process (the node's import + reader, no HTTP)", best.core, {}),
  ]
}
