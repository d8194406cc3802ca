// A compute job across assets of several owners (R67), end to end inside the enclave: the buyer's one
// signed request names every (licence, asset, table) part; each licence and asset is checked on chain
// like a single job's (R58); the query runs only if every owner's policy allows it, under the strictest
// of their policies; each licence is reserved its job and ε, and one enclave signature (GroupReceipt)
// covers every part, so the ledger charges all parts or none. Also the side-effect-free query check.
import { createHash } from 'node:crypto'
import type { ByteSource } from '../byte-source'
import { bytesToHex, isHex, utf8, type Hex } from '../bytes'
import { queryHashOf } from '../canonical-json'
import { checksumAddress, signDigest } from '../eip712'
import { InvalidInputError, UnknownAssetError } from '../errors'
import {
  checkJobRequest,
  checkMultiJobRequest,
  isMultiJobRequest,
  multiJobIdOf,
  multiJobRequestSigner,
  type MultiJobRequest,
} from '../job-request'
import { sealResult } from '../key-release'
import { groupReceiptDigest, type GroupReceipt, type SignedGroupReceipt } from '../receipt'
import { assertBuildApproved } from './approval'
import type { Reservation } from './budget'
import { wipeDataset, type Dataset, type DatasetLimits } from './dataset'
import { RandomSource } from './dp/random'
import type { Enclave } from './enclave'
import { checkLicencedAsset } from './jobs'
import { openAsset } from './plaintext'
import { bindTables, joinTables, stackDatasets, type PartSource } from './query/combine'
import { runQuery } from './query/execute'
import { planMultiQuery, planQuery, type QueryPlan } from './query/plan'
import { nowSeconds } from './runtime'
import type { AssetRecord } from './state'

export interface MultiJobInput {
  request: MultiJobRequest
  signature: Hex
  query: string
}

export interface MultiJobOutput {
  jobId: Hex
  sealedResult: Hex
  receipt: SignedGroupReceipt
}

export function checkMultiJobInput(x: unknown): MultiJobInput {
  const j = x as MultiJobInput
  if (typeof x !== 'object' || x === null) throw new InvalidInputError('job must be an object')
  const request = checkMultiJobRequest(j.request)
  if (!isHex(j.signature, 65)) throw new InvalidInputError('signature must be 65 bytes of 0x hex')
  if (typeof j.query !== 'string') throw new InvalidInputError('query must be a string')
  return { request, signature: j.signature, query: j.query }
}

/** ε each part is charged: the query's (strictest) ε for a DP asset, nothing for an aggregates-only one. */
function partEpsilon(asset: AssetRecord, plan: QueryPlan): number {
  return asset.policy.mode === 'dp' ? plan.epsilonMilli : 0
}

function planParts(request: MultiJobRequest, query: string, assets: AssetRecord[]) {
  const sources: PartSource[] = request.parts.map((p, i) => ({
    table: p.table,
    schema: assets[i].schema,
    policy: assets[i].policy,
    defaultBounds: assets[i].defaultBounds,
  }))
  const bound = bindTables(sources)
  return { bound, plan: planMultiQuery(query, bound.tables, bound.policy) }
}

/**
 * Runs one job across assets. `openCiphertext(i)` is called for part i only after every part passed
 * every check and every licence was reserved (nothing is fetched or decrypted for a refused job).
 */
export async function runMultiJob(
  enclave: Enclave,
  input: MultiJobInput,
  openCiphertext: (part: number) => Promise<ByteSource>,
  limits?: Partial<DatasetLimits>,
): Promise<MultiJobOutput> {
  const { request, signature, query } = checkMultiJobInput(input)
  const now = nowSeconds(enclave.runtime)
  if (request.deadline < now) throw new InvalidInputError('the job request deadline has passed')
  if (queryHashOf(query) !== request.queryHash.toLowerCase())
    throw new InvalidInputError('queryHash is not keccak256 of the query text')

  const chain = await enclave.chain()
  const jobId = multiJobIdOf(request, chain.chainId, chain.contracts.DataMarket)
  const done = enclave.state.jobs[jobId] as MultiJobOutput | undefined
  if (done) return done

  const buyer = multiJobRequestSigner(request, signature, chain.chainId, chain.contracts.DataMarket)
  await assertBuildApproved(enclave, chain)
  // Every licence is the buyer's and live, every asset minted, held and neither revoked nor frozen.
  const checked: Awaited<ReturnType<typeof checkLicencedAsset>>[] = []
  for (const p of request.parts)
    checked.push(await checkLicencedAsset(enclave, chain, buyer, p.licenceId, p.contentHash, now))
  const { bound, plan } = planParts(
    request,
    query,
    checked.map((c) => c.asset),
  )

  // Each part reserved against its licence as the chain has it now, with earlier answers settled (budget.ts).
  const reservations: Reservation[] = []
  try {
    for (const [i, c] of checked.entries()) {
      reservations.push(
        await enclave.budget.reserveOnChain(request.parts[i].licenceId, partEpsilon(c.asset, plan), {
          job: { jobId, deadline: request.deadline },
          readLicence: () => chain.licence(BigInt(request.parts[i].licenceId)),
          isRecorded: (id) => chain.isJobRecorded(id as Hex),
          nowSeconds: now,
        }),
      )
    }
  } catch (err) {
    for (const r of reservations) r.cancel()
    throw err
  }

  const rng = new RandomSource(enclave.runtime)
  const sk = enclave.clusterSecretKey()
  const opened: Dataset[] = []
  let combined: Dataset | undefined
  let committed = false
  try {
    const byTable = new Map<string, Dataset[]>()
    for (const [i, c] of checked.entries()) {
      const data = await openAsset({
        binding: { chainId: chain.chainId, contract: chain.contracts.DataAssetNFT, contentHash: c.contentHash },
        wrappedKey: c.wrappedKey,
        clusterSecretKey: sk,
        format: c.asset.format,
        ciphertext: await openCiphertext(i),
        schema: c.asset.schema,
        limits,
      })
      opened.push(data)
      const t = request.parts[i].table
      byTable.set(t, [...(byTable.get(t) ?? []), data])
    }
    const tables = new Map([...byTable].map(([t, ds]) => [t, stackDatasets(ds)]))
    for (const [t, d] of tables) if (byTable.get(t)!.length > 1) opened.push(d)
    combined = joinTables(plan, tables)
    const result = runQuery(plan, combined, bound.policy, bound.defaultBounds, rng)
    const plain = utf8(JSON.stringify(result))
    const ikmE = enclave.runtime.randomBytes(32)
    const sealed = await sealResult(plain, request.resultPublicKey, jobId, { ikmE })
    plain.fill(0)
    ikmE.fill(0)
    const receipt: GroupReceipt = {
      jobId,
      queryHash: request.queryHash.toLowerCase() as Hex,
      resultHash: bytesToHex(createHash('sha256').update(sealed).digest()),
      measurement: enclave.identity.measurement,
      parts: request.parts.map((p, i) => ({
        licenceId: p.licenceId,
        contentHash: checked[i].contentHash,
        epsilonSpentMilli: partEpsilon(checked[i].asset, plan),
      })),
    }
    const signer = enclave.signerSecretKey()
    let sig: Hex
    try {
      sig = signDigest(groupReceiptDigest(receipt, chain.chainId, chain.contracts.ComputeLedger), signer)
    } finally {
      signer.fill(0)
    }
    const output: MultiJobOutput = {
      jobId,
      sealedResult: bytesToHex(sealed),
      receipt: {
        receipt,
        signature: sig,
        signer: enclave.identity.signer,
        chainId: chain.chainId,
        computeLedger: checksumAddress(chain.contracts.ComputeLedger),
      },
    }
    // As for a single job: of two asks for one job id racing, the first answer stored is the only one
    // released and charged. Every part's charge is sealed to disk before the result leaves the enclave.
    const first = enclave.state.jobs[jobId] as MultiJobOutput | undefined
    if (first) for (const r of reservations) r.cancel()
    else {
      for (const r of reservations) r.commit()
      enclave.state.jobs[jobId] = output
    }
    committed = true
    await enclave.persist()
    return first ?? output
  } catch (err) {
    if (!committed) for (const r of reservations) r.cancel()
    throw err
  } finally {
    sk.fill(0)
    rng.wipe()
    for (const d of opened) wipeDataset(d)
    if (combined) wipeDataset(combined)
  }
}

/** What `POST /jobs/check` answers for a query the policies allow: the ε each part would be charged. */
export interface QueryCheck {
  epsilonSpentMilli: number
  parts?: { licenceId: string; epsilonSpentMilli: number }[]
}

/**
 * Checks a (single or multi-asset) request's query against the schemas and policies sealed at ingest,
 * without reading the chain, reserving budget or touching data: the worker's refusal at submission (a
 * 4xx before anything is queued or charged). `runJob` / `runMultiJob` check everything again.
 */
export function checkJobQuery(enclave: Enclave, body: unknown): QueryCheck {
  const b = body as { request?: unknown; query?: unknown }
  if (typeof body !== 'object' || body === null) throw new InvalidInputError('body must be an object')
  if (typeof b.query !== 'string') throw new InvalidInputError('query must be a string')
  const query = b.query
  const assetOf = (contentHash: Hex): AssetRecord => {
    const asset = enclave.state.assets[contentHash.toLowerCase()]
    if (!asset) throw new UnknownAssetError('this enclave holds no asset with this content hash; ingest it first')
    return asset
  }
  if (isMultiJobRequest(b.request)) {
    const request = checkMultiJobRequest(b.request)
    if (queryHashOf(query) !== request.queryHash.toLowerCase())
      throw new InvalidInputError('queryHash is not keccak256 of the query text')
    const assets = request.parts.map((p) => assetOf(p.contentHash))
    const { plan } = planParts(request, query, assets)
    return {
      epsilonSpentMilli: plan.epsilonMilli,
      parts: request.parts.map((p, i) => ({ licenceId: p.licenceId, epsilonSpentMilli: partEpsilon(assets[i], plan) })),
    }
  }
  const request = checkJobRequest(b.request)
  if (queryHashOf(query) !== request.queryHash.toLowerCase())
    throw new InvalidInputError('queryHash is not keccak256 of the query text')
  const asset = assetOf(request.contentHash)
  return { epsilonSpentMilli: planQuery(query, asset.schema, asset.policy).epsilonMilli }
}
