// Publishing throughput (issue 5): a 256 MiB CSV through the client library against the processes
// `npm start` runs — plaintext hash + chunked AES-256-GCM + ciphertext CID (pass 1), then encrypt again
// + direct upload to IPFS's uploader + IPFS add + the worker pinning the signed CID (pass 2) — as a
// fraction of raw node:crypto AES-256-GCM + SHA-256 over the same bytes (target ≥ 0.3). The subject's
// clock stops when the worker has accepted the stored ciphertext (the `ingesting` phase); ingest and
// mint, which run asynchronously and are polled, are reported as details. Also: the CLI's peak memory
// while publishing ~1 GiB (target < 256 MiB).
import { execFile } from 'node:child_process'
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { JsonRpcProvider } from 'ethers'
import { devWallet, freePorts, startStack } from '../scripts/stack'
import { ApiClient, publish } from '../sdk/src/index'
import { fileSource, nodeBackends } from '../sdk/src/node/index'
import type { BenchResult } from './lib'

const MIB = 1024 * 1024
const PUBLISH_MIB = Number(process.env.BENCH_PUBLISH_MIB ?? 256)
const CLI_MIB = Number(process.env.BENCH_CLI_MIB ?? 1000)

/** A CSV of about `mib` MiB with wide rows (fewer rows keeps the enclave's ingest short). */
async function writeCsv(path: string, mib: number, salt: string): Promise<void> {
  const out = createWriteStream(path)
  out.write('id,region,note,value\n')
  const pad = 'x'.repeat(180)
  let written = 0
  let i = 0
  while (written < mib * MIB) {
    const lines: string[] = []
    for (let k = 0; k < 5000; k++, i++) lines.push(`${i},r${i % 50},${salt}${pad},${i % 1000}`)
    const block = lines.join('\n') + '\n'
    written += block.length
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((r) => out.end(r))
}

/** Raw node:crypto AES-256-GCM + SHA-256 over the same file, read the same way. */
async function baselineMiBps(path: string, size: number): Promise<number> {
  const start = performance.now()
  const cipher = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12))
  const hash = createHash('sha256')
  for await (const chunk of fileSource(path).open() as AsyncIterable<Uint8Array>) {
    hash.update(chunk)
    cipher.update(chunk)
  }
  cipher.final()
  hash.digest()
  return size / MIB / ((performance.now() - start) / 1000)
}

export default async function run(): Promise<BenchResult[]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'stillflow-bench-publish-'))
  const stack = await startStack({
    root: process.cwd(),
    dataDir,
    ports: await freePorts(),
  })
  const provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
  const wallet = (i: number) => devWallet(i, provider)
  const results: BenchResult[] = []
  try {
    const file = join(dataDir, 'data.csv')
    await writeCsv(file, PUBLISH_MIB, 'a')
    const size = fileSource(file).size
    const baseline = Math.max(await baselineMiBps(file, size), await baselineMiBps(file, size))

    let uploadedAt = 0
    const start = performance.now()
    let hashedAt = 0
    const result = await publish({
      api: new ApiClient({ apiUrl: stack.urls.api }),
      signer: wallet(4),
      source: fileSource(file),
      format: 'csv',
      declaration: { name: 'bench', lawfulBasis: { basis: 'owned', statement: 'bench', personalData: false } },
      enclave: { rpcUrl: stack.urls.chain },
      upload: 'stream',
      ...nodeBackends,
      onProgress: (e) => {
        if (e.phase === 'signing') hashedAt = performance.now()
        if (e.phase === 'ingesting') uploadedAt = performance.now()
      },
    })
    const done = performance.now()
    const subject = size / MIB / ((uploadedAt - start) / 1000)
    results.push({
      name: `publish ${PUBLISH_MIB} MiB (hash + encrypt + CID, then encrypt + direct upload + IPFS add + pin)`,
      baseline: 'node:crypto AES-256-GCM + SHA-256',
      subject: 'client library → IPFS uploader (ticket from the worker)',
      ratio: subject / baseline,
      ratioMeaning: 'throughput',
      target: '≥ 0.3',
      pass: subject / baseline >= 0.3,
      details: {
        baselineMiBps: Math.round(baseline),
        subjectMiBps: Math.round(subject),
        pass1Ms: Math.round(hashedAt - start),
        uploadMs: Math.round(uploadedAt - hashedAt),
        ingestAndMintMs: Math.round(done - uploadedAt),
        tokenId: result.tokenId,
        // The machine is shared: the ratio means little without the load it was measured under.
        loadAverage: loadavg()
          .map((n) => n.toFixed(1))
          .join(' '),
      },
    })

    // The CLI's peak memory while publishing ~1 GiB, measured in its own process.
    const big = join(dataDir, 'big.csv')
    await writeCsv(big, CLI_MIB, 'b')
    const out = await promisify(execFile)(
      process.execPath,
      [
        '--require',
        join(process.cwd(), 'bench/support/max-rss.cjs'),
        'cli/bin.mjs',
        'publish',
        big,
        '--title',
        'big',
        '--dev-account',
        '5',
        '--json',
      ],
      {
        env: {
          ...process.env,
          STILLFLOW_API: stack.urls.api,
          STILLFLOW_RPC: stack.urls.chain,
          STILLFLOW_HOME: join(dataDir, 'cli'),
        },
        maxBuffer: 1 << 24,
      },
    ).catch((e: { stderr: string; stdout: string }) => e)
    const rssMiB = Number(/MAX_RSS_KIB=(\d+)/.exec(out.stderr)?.[1] ?? NaN) / 1024
    const published = /"status": "minted"/.test(out.stdout)
    results.push({
      name: `CLI peak memory publishing ${CLI_MIB} MiB`,
      baseline: '256 MiB budget',
      subject: 'stillflow publish (max RSS)',
      ratio: rssMiB / 256,
      ratioMeaning: 'time',
      target: '≤ 1 (under 256 MiB)',
      pass: published && rssMiB < 256,
      details: {
        maxRssMiB: Math.round(rssMiB),
        published: String(published),
        loadAverage: loadavg()
          .map((n) => n.toFixed(1))
          .join(' '),
      },
    })
  } finally {
    provider.destroy()
    await stack.stop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  return results
}
