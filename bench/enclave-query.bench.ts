// The simulated enclave's query path against plaintext, same run, same parser (the enclave's CSV reader):
//  1. DP GROUP BY over 1M rows from ciphertext (HPKE unwrap + chunked AES-GCM decrypt + SHA-256
//     check + parse + query + discrete-Laplace release) vs the same aggregate on plaintext
//     (parse with the same known schema + exact query). Target ≤ 1.5× time.
//  2. The DP release step alone (clamping, fixed point, noise, τ-threshold) vs the exact query on the
//     parsed dataset. Target ≤ 1.1× time.
import { randomBytes } from 'node:crypto'
import { collectBytes } from '../tee-sim/src/byte-source'
import { encryptChunked } from '../tee-sim/src/chunked-aead'
import { parseDataset } from '../tee-sim/src/enclave/dataset'
import { RandomSource } from '../tee-sim/src/enclave/dp/random'
import { nodeChunkCipher } from '../tee-sim/src/enclave/node-aead'
import { openAsset } from '../tee-sim/src/enclave/plaintext'
import { runQuery } from '../tee-sim/src/enclave/query/execute'
import { planQuery } from '../tee-sim/src/enclave/query/plan'
import { systemRuntime } from '../tee-sim/src/enclave/runtime'
import { x25519PublicKey } from '../tee-sim/src/hpke'
import { wrapDataKey } from '../tee-sim/src/key-release'
import { normalizePolicy } from '../tee-sim/src/policy'
import { createHash } from 'node:crypto'
import { bestOfInterleaved, timeMs, type BenchResult } from './lib'

const ROWS = 1_000_000
const GROUPS = 1000
const CHUNK = 1024 * 1024
const SQL = 'SELECT grp, COUNT(*) AS n, SUM(amount) AS total FROM data GROUP BY grp'
const CONTRACT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'

function csv(): Uint8Array {
  const lines = ['grp,amount,qty']
  for (let i = 0; i < ROWS; i++) lines.push(`g${i % GROUPS},${((i * 7919) % 100000) / 100},${i % 13}`)
  return new TextEncoder().encode(lines.join('\n') + '\n')
}

function pieces(buf: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = []
  for (let o = 0; o < buf.length; o += CHUNK) out.push(buf.slice(o, o + CHUNK))
  return out
}

export default async function run(): Promise<BenchResult[]> {
  const plaintext = csv()
  const contentHash = `0x${createHash('sha256').update(plaintext).digest('hex')}` as const
  const dataKey = new Uint8Array(randomBytes(32))
  const clusterSk = new Uint8Array(randomBytes(32))
  const ciphertext = await collectBytes(
    encryptChunked(dataKey, [plaintext], { chunkSize: CHUNK, cipher: nodeChunkCipher }),
  )
  const binding = { chainId: 31337, contract: CONTRACT, contentHash }
  const wrappedKey = await wrapDataKey(dataKey, x25519PublicKey(clusterSk), binding)

  const dp = normalizePolicy({
    mode: 'dp',
    epsilonPerQueryMilli: 1000,
    columns: { amount: { bounds: [0, 1000], scale: 2 } },
  })
  const exact = normalizePolicy({ mode: 'aggregates-only', minGroupSize: 2 })
  const schema = [
    { name: 'grp', type: 'string' as const },
    { name: 'amount', type: 'number' as const },
    { name: 'qty', type: 'integer' as const },
  ]
  const rng = new RandomSource(systemRuntime)
  let sink = 0

  // 1. end to end, from ciphertext vs from plaintext (fresh copies: the enclave wipes what it decrypts)
  const plainRun = async () =>
    timeMs(async () => {
      const data = await parseDataset('csv', pieces(plaintext), { schema })
      sink += runQuery(planQuery(SQL, data.schema, exact), data, exact, {}, rng).rows.length
    })
  const enclaveRun = async () =>
    timeMs(async () => {
      const data = await openAsset({
        binding,
        wrappedKey,
        clusterSecretKey: clusterSk.slice(),
        format: 'csv',
        ciphertext: pieces(ciphertext),
        schema,
      })
      sink += runQuery(planQuery(SQL, data.schema, dp), data, dp, {}, rng).rows.length
    })
  const e2e = await bestOfInterleaved(plainRun, enclaveRun, 4, 'lower')

  // 2. the release step alone, on one parsed dataset
  const data = await parseDataset('csv', pieces(plaintext))
  const exactPlan = planQuery(SQL, data.schema, exact)
  const dpPlan = planQuery(SQL, data.schema, dp)
  const reps = 5
  const plainQuery = async () =>
    (await timeMs(() => {
      for (let i = 0; i < reps; i++) sink += runQuery(exactPlan, data, exact, {}, rng).rows.length
    })) / reps
  const dpQuery = async () =>
    (await timeMs(() => {
      for (let i = 0; i < reps; i++) sink += runQuery(dpPlan, data, dp, {}, rng).rows.length
    })) / reps
  const release = await bestOfInterleaved(plainQuery, dpQuery, 7, 'lower')
  if (sink === 0) throw new Error('no groups released')

  const r1 = e2e.subject / e2e.baseline
  const r2 = release.subject / release.baseline
  return [
    {
      name: 'enclave DP GROUP BY over 1M rows from ciphertext',
      baseline: 'CSV parse + exact GROUP BY on plaintext',
      subject: 'unwrap + decrypt + SHA-256 + CSV parse + DP GROUP BY',
      ratio: r1,
      ratioMeaning: 'time',
      target: '≤ 1.5×',
      pass: r1 <= 1.5,
      details: {
        plaintextMs: Math.round(e2e.baseline),
        enclaveMs: Math.round(e2e.subject),
        rows: ROWS,
        groups: GROUPS,
        csvMiB: +(plaintext.length / 1048576).toFixed(1),
      },
    },
    {
      name: 'enclave DP release step',
      baseline: 'exact GROUP BY on the parsed dataset',
      subject: 'clamped fixed-point GROUP BY + discrete Laplace + τ-threshold',
      ratio: r2,
      ratioMeaning: 'time',
      target: '≤ 1.1×',
      pass: r2 <= 1.1,
      details: { plainQueryMs: +release.baseline.toFixed(1), dpQueryMs: +release.subject.toFixed(1) },
    },
  ]
}
