// A compute job, end to end inside the enclave: check the buyer's signed request, the licence,
// asset and measurement on chain itself (R58), the query against the owner's policy and the ε left;
// then unwrap, decrypt, verify, run, release with DP, encrypt the result to the buyer, sign the
// receipt — and wipe plaintext and per-job keys (R54). Retries of one job id return the same answer.
import { createHash } from 'node:crypto'
import type { ByteSource } from '../byte-source'
import { bytesToHex, isHex, utf8, type Hex } from '../bytes'
import { queryHashOf } from '../canonical-json'
import { checksumAddress, sameAddress, signDigest } from '../eip712'
import {
  AssetUnavailableError,
  InvalidInputError,
  LicenceInvalidError,
  RequestSignatureError,
  UnknownAssetError,
} from '../errors'
import { checkJobRequest, jobIdOf, jobRequestSigner, type JobRequest } from '../job-request'
import { sealResult } from '../key-release'
import { receiptDigest, type JobReceipt, type SignedReceipt } from '../receipt'
import { assertBuildApproved } from './approval'
import type { ChainReader, LicenceInfo } from './chain-reader'
import type { Enclave } from './enclave'
import { wipeDataset, type DatasetLimits } from './dataset'
import { RandomSource } from './dp/random'
import { openAsset } from './plaintext'
import { runQuery } from './query/execute'
import { planQuery } from './query/plan'
import { nowSeconds } from './runtime'
import type { AssetRecord } from './state'

export interface JobInput {
  request: JobRequest
  /** The buyer's EIP-712 signature over `request`. */
  signature: Hex
  /** The SQL text; keccak256(utf8(query)) must equal request.queryHash. */
  query: string
}

/** What `POST /jobs` returns. */
export interface JobOutput {
  jobId: Hex
  /** HPKE enc ‖ ciphertext of the result JSON, for the buyer's resultPublicKey (0x hex). */
  sealedResult: Hex
  receipt: SignedReceipt
}

export function checkJobInput(x: unknown): JobInput {
  const j = x as JobInput
  if (typeof x !== 'object' || x === null) throw new InvalidInputError('job must be an object')
  const request = checkJobRequest(j.request)
  if (!isHex(j.signature, 65)) throw new InvalidInputError('signature must be 65 bytes of 0x hex')
  if (typeof j.query !== 'string') throw new InvalidInputError('query must be a string')
  return { request, signature: j.signature, query: j.query }
}

/**
 * The licence and the ingested asset of one job (or one part of a job across assets), as the chain and
 * the sealed state see them now. Throws the precise refusal: no licence, another holder, expired, no jobs
 * left, unknown / revoked (crypto-shredding its key, R70) / frozen asset, or an asset of another chain.
 */
export async function checkLicencedAsset(
  enclave: Enclave,
  chain: ChainReader,
  buyer: string,
  licenceIdText: string,
  requestedContent: Hex,
  now: number,
): Promise<{ licence: LicenceInfo; asset: AssetRecord; contentHash: Hex; wrappedKey: Hex }> {
  const licenceId = BigInt(licenceIdText)
  const licence = await chain.licence(licenceId)
  if (/^0x0{40}$/i.test(licence.buyer)) throw new LicenceInvalidError(`licence ${licenceId} does not exist`)
  if (!sameAddress(licence.buyer, buyer))
    throw new RequestSignatureError('the job request is not signed by the licence holder')
  if (licence.expiresAt <= BigInt(now)) throw new LicenceInvalidError(`licence ${licenceId} has expired`)
  if (licence.jobsLeft <= 0n) throw new LicenceInvalidError(`licence ${licenceId} has no jobs left`)
  const contentHash = requestedContent.toLowerCase() as Hex
  const tokenId = await chain.tokenIdOfContent(contentHash)
  if (tokenId === 0n) throw new AssetUnavailableError('no minted asset has this content hash')
  if (tokenId !== licence.tokenId)
    throw new LicenceInvalidError(`licence ${licenceId} is for asset ${licence.tokenId}, not ${tokenId}`)
  const info = await chain.assetInfo(tokenId)
  const asset = enclave.state.assets[contentHash]
  if (info.revoked) {
    if (asset?.wrappedKey) {
      // R70 crypto-shredding: a revoked asset's key is destroyed, so no later job can read it.
      asset.wrappedKey = null
      await enclave.persist()
    }
    throw new AssetUnavailableError(`asset ${tokenId} is revoked`)
  }
  if (info.frozen) throw new AssetUnavailableError(`asset ${tokenId} is frozen by a supervisor`)
  if (!asset || !asset.wrappedKey)
    throw new UnknownAssetError('this enclave holds no key for the asset; ingest it first')
  if (asset.chainId !== chain.chainId || !sameAddress(asset.contract, chain.contracts.DataAssetNFT)) {
    throw new UnknownAssetError('the asset was ingested for another chain or contract')
  }
  return { licence, asset, contentHash, wrappedKey: asset.wrappedKey }
}

/**
 * Runs one job. `openCiphertext` is called only after every check passed (nothing is fetched or
 * decrypted for a refused job).
 */
export async function runJob(
  enclave: Enclave,
  input: JobInput,
  openCiphertext: () => Promise<ByteSource>,
  limits?: Partial<DatasetLimits>,
): Promise<JobOutput> {
  const { request, signature, query } = checkJobInput(input)
  const now = nowSeconds(enclave.runtime)
  if (request.deadline < now) throw new InvalidInputError('the job request deadline has passed')
  if (queryHashOf(query) !== request.queryHash.toLowerCase())
    throw new InvalidInputError('queryHash is not keccak256 of the query text')

  const chain = await enclave.chain()
  const jobId = jobIdOf(request, chain.chainId, chain.contracts.DataMarket)
  const done = enclave.state.jobs[jobId] as JobOutput | undefined
  if (done) return done

  const buyer = jobRequestSigner(request, signature, chain.chainId, chain.contracts.DataMarket)
  await assertBuildApproved(enclave, chain)
  const { licence, asset, contentHash, wrappedKey } = await checkLicencedAsset(
    enclave,
    chain,
    buyer,
    request.licenceId,
    request.contentHash,
    now,
  )

  const plan = planQuery(query, asset.schema, asset.policy)
  // Reserved against the licence's remainder as the chain has it now, with earlier answers settled.
  const reservation = await enclave.budget.reserveOnChain(request.licenceId, plan.epsilonMilli, {
    job: { jobId, deadline: request.deadline },
    readLicence: () => chain.licence(BigInt(request.licenceId)),
    isRecorded: (id) => chain.isJobRecorded(id as Hex),
    nowSeconds: now,
  })
  const rng = new RandomSource(enclave.runtime)
  const sk = enclave.clusterSecretKey()
  let committed = false
  let data
  try {
    data = await openAsset({
      binding: { chainId: chain.chainId, contract: chain.contracts.DataAssetNFT, contentHash },
      wrappedKey,
      clusterSecretKey: sk,
      format: asset.format,
      ciphertext: await openCiphertext(),
      schema: asset.schema,
      limits,
    })
    const result = runQuery(plan, data, asset.policy, asset.defaultBounds, rng)
    const plain = utf8(JSON.stringify(result))
    const ikmE = enclave.runtime.randomBytes(32)
    const sealed = await sealResult(plain, request.resultPublicKey, jobId, { ikmE })
    plain.fill(0)
    ikmE.fill(0)
    const receipt: JobReceipt = {
      jobId,
      licenceId: request.licenceId,
      contentHash,
      queryHash: request.queryHash.toLowerCase() as Hex,
      resultHash: bytesToHex(createHash('sha256').update(sealed).digest()),
      epsilonSpentMilli: plan.epsilonMilli,
      measurement: enclave.identity.measurement,
    }
    const signer = enclave.signerSecretKey()
    let sig: Hex
    try {
      sig = signDigest(receiptDigest(receipt, chain.chainId, chain.contracts.ComputeLedger), signer)
    } finally {
      signer.fill(0)
    }
    const output: JobOutput = {
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
    // Two asks for one job id racing (a worker retry while the first ask still runs) may both compute:
    // the first answer stored is the only one ever released and the only one charged, so every caller
    // gets the same bytes and receipt. The charge is sealed to disk before the result leaves the enclave.
    const first = enclave.state.jobs[jobId] as JobOutput | undefined
    if (first) reservation.cancel()
    else {
      reservation.commit()
      enclave.state.jobs[jobId] = output
    }
    committed = true
    await enclave.persist()
    return first ?? output
  } catch (err) {
    // Once committed, the charge stands even if persisting or returning failed (never undercharge).
    if (!committed) reservation.cancel()
    throw err
  } finally {
    sk.fill(0)
    rng.wipe()
    if (data) wipeDataset(data)
  }
}
