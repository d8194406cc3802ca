// Test helpers: a deterministic runtime (seeded SHA-256 counter DRBG and a settable clock) so no test
// reads the real clock or Math.random, and small fixtures shared by the tee-sim suites.
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8 } from '../../tee-sim/src/bytes'
import type { EnclaveRuntime } from '../../tee-sim/src/enclave/runtime'

export interface TestRuntime extends EnclaveRuntime {
  setNow(ms: number): void
  advance(ms: number): void
}

/** Deterministic bytes: SHA-256(seed ‖ counter) blocks. Not a CSPRNG for production, fine for tests. */
export function testRuntime(seed = 'tee-sim test', startMs = Date.UTC(2026, 10, 22, 12, 0, 0)): TestRuntime {
  let counter = 0
  let now = startMs
  const seedBytes = utf8(seed)
  return {
    randomBytes(n: number): Uint8Array {
      const out = new Uint8Array(n)
      for (let o = 0; o < n; o += 32) {
        const c = new Uint8Array(8)
        new DataView(c.buffer).setBigUint64(0, BigInt(counter++))
        out.set(sha256(concatBytes(seedBytes, c)).subarray(0, Math.min(32, n - o)), o)
      }
      return out
    },
    now: () => now,
    setNow(ms) {
      now = ms
    },
    advance(ms) {
      now += ms
    },
  }
}

export const MEASUREMENT_A = `0x${'aa'.repeat(32)}` as const
export const MEASUREMENT_B = `0x${'bb'.repeat(32)}` as const
export const PLATFORM_SECRET = new Uint8Array(32).fill(7)

export const nonceHex = (i: number): `0x${string}` => `0x${i.toString(16).padStart(64, '0')}`

import type { AssetInfo, ChainReader, ContractAddresses, LicenceInfo } from '../../tee-sim/src/enclave/chain-reader'
import { ChainUnavailableError } from '../../tee-sim/src/errors'
import { Enclave } from '../../tee-sim/src/enclave/enclave'
import { memorySealedStore } from '../../tee-sim/src/host/files'
import { createSimulatedPlatform } from '../../tee-sim/src/platform/simulated-platform'
import { collectBytes } from '../../tee-sim/src/byte-source'
import { bytesToHex } from '../../tee-sim/src/bytes'
import { encryptChunked } from '../../tee-sim/src/chunked-aead'
import { wrapDataKey } from '../../tee-sim/src/key-release'
import { createHash } from 'node:crypto'

export const CONTRACTS: ContractAddresses = {
  DataAssetNFT: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  DataMarket: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512',
  EnclaveRegistry: '0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0',
  ComputeLedger: '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9',
}

/** An in-memory chain with the views the enclave reads; tests mutate it directly. */
export class FakeChain implements ChainReader {
  readonly chainId = 31337
  readonly contracts = CONTRACTS
  down = false
  approved = new Set<string>()
  assets = new Map<bigint, AssetInfo>()
  licences = new Map<bigint, LicenceInfo>()
  /** Job ids whose receipts ComputeLedger recorded (lower case). */
  recorded = new Set<string>()
  private check() {
    if (this.down) throw new ChainUnavailableError('fake chain is down')
  }
  async ping() {
    this.check()
  }
  async tokenIdOfContent(h: string) {
    this.check()
    for (const [id, a] of this.assets) if (a.contentHash.toLowerCase() === h.toLowerCase()) return id
    return 0n
  }
  async assetInfo(id: bigint) {
    this.check()
    const a = this.assets.get(id)
    if (!a) throw new Error(`no asset ${id}`)
    return { ...a }
  }
  async licence(id: bigint) {
    this.check()
    const l = this.licences.get(id)
    return l
      ? { ...l }
      : {
          buyer: '0x0000000000000000000000000000000000000000' as const,
          tokenId: 0n,
          offerId: 0n,
          expiresAt: 0n,
          jobsLeft: 0n,
          epsilonLeftMilli: 0n,
          purposes: 0n,
        }
  }
  async isMeasurementApproved(m: string) {
    this.check()
    return this.approved.has(m.toLowerCase())
  }
  async isJobRecorded(jobId: string) {
    this.check()
    return this.recorded.has(jobId.toLowerCase())
  }
  /** What ComputeLedger.recordReceipt does to the licence: marks the job and spends one job and its ε. */
  record(receipt: { jobId: string; licenceId: string; epsilonSpentMilli: number }) {
    const l = this.licences.get(BigInt(receipt.licenceId))!
    this.recorded.add(receipt.jobId.toLowerCase())
    this.licences.set(BigInt(receipt.licenceId), {
      ...l,
      jobsLeft: l.jobsLeft - 1n,
      epsilonLeftMilli: l.epsilonLeftMilli - BigInt(receipt.epsilonSpentMilli),
    })
  }
}

export async function bootEnclave(opts: { chain?: FakeChain; seed?: string; measurement?: `0x${string}` } = {}) {
  const runtime = testRuntime(opts.seed ?? 'enclave')
  const chain = opts.chain ?? new FakeChain()
  const measurement = opts.measurement ?? MEASUREMENT_A
  chain.approved.add(measurement)
  const store = memorySealedStore()
  const enclave = await Enclave.boot({
    platform: createSimulatedPlatform({ platformSecret: PLATFORM_SECRET, measurement }),
    store,
    runtime,
    chain: async () => chain,
  })
  return { enclave, chain, runtime, store }
}

export const sha256Hex = (b: Uint8Array): `0x${string}` => `0x${createHash('sha256').update(b).digest('hex')}`

/** Encrypts a dataset as an owner would, wrapped to the enclave's cluster key. */
export async function encryptDataset(
  text: string | Uint8Array,
  clusterPublicKey: string,
  opts: { chunkSize?: number; seed?: number } = {},
) {
  const plaintext = typeof text === 'string' ? new TextEncoder().encode(text) : text
  const dataKey = new Uint8Array(32).fill(opts.seed ?? 0x33)
  const contentHash = sha256Hex(plaintext)
  const ciphertext = new Uint8Array(
    await collectBytes(
      encryptChunked(dataKey, [plaintext], {
        chunkSize: opts.chunkSize ?? 4096,
        noncePrefix: new Uint8Array([0, 0, 0, 1]),
      }),
    ),
  )
  const wrappedKey = await wrapDataKey(dataKey, clusterPublicKey, {
    chainId: 31337,
    contract: CONTRACTS.DataAssetNFT,
    contentHash,
  })
  return { plaintext, contentHash, ciphertext, wrappedKey, dataKey: bytesToHex(dataKey) }
}

import { Wallet } from 'ethers'
import { publishDomain, publishTypes } from '../../contracts/index'
import { ingest } from '../../tee-sim/src/enclave/ingest'
import { runJob, type JobOutput } from '../../tee-sim/src/enclave/jobs'
import { JOB_REQUEST_TYPES, jobRequestDomain } from '../../tee-sim/src/eip712'
import { queryHashOf } from '../../tee-sim/src/canonical-json'
import { x25519PublicKey } from '../../tee-sim/src/hpke'
import { openResult } from '../../tee-sim/src/key-release'
import type { QueryResult } from '../../tee-sim/src/enclave/query/execute'
import type { JobRequest } from '../../tee-sim/src/job-request'

export const BUYER = new Wallet(`0x${'b1'.repeat(32)}`)
/** The data owner who signs the declarations the tests ingest. */
export const OWNER = new Wallet(`0x${'a1'.repeat(32)}`)

/**
 * Ingest parameters as the worker sends them: the owner's signed declaration (EIP-712 `Publish` over its
 * SHA-256) carries the policy, the only one the enclave enforces (enclave/owner-proof.ts). `policy` is
 * also sent alongside when given, as the worker does.
 */
export async function ingestParams(
  d: { contentHash: string; wrappedKey: string },
  opts: { policy?: unknown; chainId?: number; contract?: string; format?: 'csv' | 'jsonl'; owner?: Wallet } = {},
) {
  const chainId = opts.chainId ?? 31337
  const contract = opts.contract ?? CONTRACTS.DataAssetNFT
  const owner = opts.owner ?? OWNER
  const declaration = utf8(
    JSON.stringify({
      name: 'test asset',
      stillflow: {
        owner: owner.address,
        chainId,
        dataAssetNft: contract,
        contentHash: d.contentHash,
        policy: opts.policy,
      },
    }),
  )
  const deadline = 2_000_000_000
  const signature = await owner.signTypedData(publishDomain(chainId, contract), publishTypes, {
    owner: owner.address,
    contentHash: d.contentHash,
    metadataDigest: sha256Hex(declaration),
    deadline,
  })
  return {
    chainId,
    contract,
    contentHash: d.contentHash,
    wrappedKey: d.wrappedKey,
    format: opts.format ?? ('csv' as const),
    ...(opts.policy !== undefined ? { policy: opts.policy } : {}),
    publish: { declaration: Buffer.from(declaration).toString('base64url'), signature, deadline },
  }
}
export const BUYER_RESULT_SK = new Uint8Array(32).fill(0xb2)

/** A marketplace in a box: enclave + fake chain + one ingested, minted asset + one licence. */
export async function marketplace(
  csv: string,
  opts: { policy?: unknown; epsilonMilli?: number; jobs?: number; seed?: string } = {},
) {
  const env = await bootEnclave({ seed: opts.seed })
  const d = await encryptDataset(csv, env.enclave.identity.clusterPublicKey, { chunkSize: 64 * 1024 })
  await ingest(env.enclave, await ingestParams(d, { policy: opts.policy }), [d.ciphertext])
  env.chain.assets.set(1n, {
    owner: '0x00000000000000000000000000000000000000a1',
    contentHash: d.contentHash,
    revoked: false,
    frozen: false,
  })
  const nowS = Math.floor(env.runtime.now() / 1000)
  env.chain.licences.set(1n, {
    buyer: BUYER.address as `0x${string}`,
    tokenId: 1n,
    offerId: 1n,
    expiresAt: BigInt(nowS + 86400),
    jobsLeft: BigInt(opts.jobs ?? 1000),
    epsilonLeftMilli: BigInt(opts.epsilonMilli ?? 10_000),
    purposes: 1n,
  })
  let nonce = 0
  const sign = async (query: string, over: Partial<JobRequest> = {}, wallet = BUYER) => {
    const request: JobRequest = {
      licenceId: '1',
      contentHash: d.contentHash,
      queryHash: queryHashOf(query),
      resultPublicKey: bytesToHex(x25519PublicKey(BUYER_RESULT_SK)),
      nonce: `0x${(++nonce).toString(16).padStart(64, '0')}`,
      deadline: nowS + 600,
      ...over,
    }
    const types = { JobRequest: JOB_REQUEST_TYPES.JobRequest.map((f) => ({ ...f })) }
    const signature = (await wallet.signTypedData(
      jobRequestDomain(31337, CONTRACTS.DataMarket),
      types,
      request,
    )) as `0x${string}`
    return { request, signature, query }
  }
  let fetched = 0
  const run = async (query: string, over: Partial<JobRequest> = {}, wallet = BUYER) =>
    runJob(env.enclave, await sign(query, over, wallet), async () => {
      fetched++
      return [d.ciphertext]
    })
  const open = async (out: JobOutput): Promise<QueryResult> =>
    JSON.parse(new TextDecoder().decode(await openResult(out.sealedResult, BUYER_RESULT_SK, out.jobId)))
  const query = async (q: string) => open(await run(q))
  return { ...env, d, sign, run, open, query, fetchedCount: () => fetched }
}

/** Rows: region (3 values, skewed), price 1..100, qty ints, email unique. */
export function salesCsv(n: number, extra?: (i: number) => string): string {
  const lines = ['region,price,qty,email' + (extra ? ',flag' : '')]
  for (let i = 0; i < n; i++) {
    const region = i % 10 < 6 ? 'north' : i % 10 < 9 ? 'south' : 'east'
    lines.push(`${region},${(i % 100) + 1},${i % 7},user${i}@example.com` + (extra ? `,${extra(i)}` : ''))
  }
  return lines.join('\n') + '\n'
}
