// Compute jobs from the buyer's side (DESIGN §3 "Compute job"): a fresh X25519 result key per job, the
// EIP-712 JobRequest the buyer signs, submission, waiting, and opening the sealed result — after checking
// that it is the one the enclave signed a receipt for. The result plaintext exists only here.
import { sha256 } from '@noble/hashes/sha2.js'
import type { TypedDataField } from 'ethers'
import {
  bytesToHex,
  checkMultiJobRequest,
  JOB_REQUEST_TYPES,
  jobIdOf,
  jobRequestDomain,
  MULTI_JOB_REQUEST_TYPES,
  multiJobIdOf,
  openResult,
  queryHashOf,
  verifyGroupReceipt,
  verifyReceipt,
  x25519PublicKey,
  type Hex,
  type JobRequest,
  type MultiJobRequest,
  type QueryResult,
  type SignedGroupReceipt,
  type SignedReceipt,
} from '../../tee-sim/src/index'
import type { ApiClient } from './api'
import { StillflowError } from './errors'

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'expired'

/** `GET /api/jobs/:id`. */
export interface JobView {
  jobId: Hex
  status: JobStatus
  reason?: { code: string; message: string }
  chainId: number
  buyer: string
  licenceId: string
  tokenId: string
  contentHash: Hex
  queryHash: Hex
  /** A job across assets (R67): each part, with the ε its licence was charged once it succeeded. */
  parts?: { licenceId: string; tokenId: string; contentHash: Hex; table: string; epsilonSpentMilli?: number | null }[]
  deadline: number
  attempts: number
  /** A live job's last transient failure (e.g. the enclave away): it is retried until its deadline. */
  retrying?: { code: string; message: string }
  createdAt: number
  updatedAt: number
  finishedAt: number | null
  receipt?: {
    txHash: string | null
    blockNumber: number | null
    resultHash: Hex
    epsilonSpentMilli: number
    measurement: Hex
  }
  resultAvailable?: boolean
  resultExpiresAt?: number | null
  /** Whether the chain indexer has mirrored the job's receipt yet (issue 8; a job across assets: its GroupJobRecorded). */
  index?: 'pending' | 'indexed' | 'failed'
}

/** `POST /api/jobs` (202). */
export interface AcceptedJob {
  jobId: Hex
  status: 'queued'
  licenceId: string
  tokenId: string
  deadline: number
  parts?: { licenceId: string; tokenId: string; table: string }[]
}

/** `GET /api/jobs/:id/result`. */
export interface SealedJobResult {
  jobId: Hex
  sealedResult: Hex
  resultHash: Hex
  /** A GroupReceipt for a job across assets. */
  receipt: SignedReceipt | SignedGroupReceipt
  txHash: string | null
}

/** The job ended without a result (failed or expired); `code` says why. It cost nothing. */
export class JobNotSucceededError extends StillflowError {
  override name = 'JobNotSucceededError'
  constructor(readonly job: JobView) {
    super(job.reason?.message ?? `job ${job.status}`, { details: `${job.status}: ${job.reason?.code ?? 'unknown'}` })
  }
  get code(): string {
    return this.job.reason?.code ?? this.job.status
  }
}

/** The sealed result or its receipt does not match the job: never trust the bytes. */
export class ResultVerificationError extends StillflowError {
  override name = 'ResultVerificationError'
}

export interface ResultKey {
  secretKey: Uint8Array
  publicKey: Hex
}

/** A fresh X25519 key for one job's result (RFC 7748); keep the secret only as long as the job. */
export function generateResultKey(random: (n: number) => Uint8Array = randomBytes): ResultKey {
  const secretKey = random(32)
  return { secretKey, publicKey: bytesToHex(x25519PublicKey(secretKey)) }
}

function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n))
}

export interface JobRequestInput {
  licenceId: string | bigint
  contentHash: string
  query: string
  resultPublicKey: string
  /** Unix seconds; default now + 15 minutes. */
  deadline?: number
  /** 32 bytes of 0x hex; default random. */
  nonce?: string
  now?: () => number
}

export function createJobRequest(input: JobRequestInput): JobRequest {
  const now = input.now ?? (() => Math.floor(Date.now() / 1000))
  return {
    licenceId: input.licenceId.toString(),
    contentHash: input.contentHash.toLowerCase() as Hex,
    queryHash: queryHashOf(input.query),
    resultPublicKey: input.resultPublicKey.toLowerCase() as Hex,
    nonce: (input.nonce ?? bytesToHex(randomBytes(32))).toLowerCase() as Hex,
    deadline: input.deadline ?? now() + 15 * 60,
  }
}

/** One licensed asset of a job across assets, and the table name the query uses for it. */
export interface JobPartInput {
  licenceId: string | bigint
  contentHash: string
  /** Lowercase SQL name; parts sharing a name are stacked (UNION ALL) if their owners allow it. */
  table: string
}

export interface MultiJobRequestInput extends Omit<JobRequestInput, 'licenceId' | 'contentHash'> {
  parts: JobPartInput[]
}

/**
 * A request over several licensed assets, possibly of different owners (R67), e.g.
 * `createMultiJobRequest({ parts: [{ licenceId: 1n, contentHash: a, table: 'a' }, { licenceId: 2n, contentHash: b, table: 'b' }],
 * query: 'SELECT COUNT(*) FROM a JOIN b ON a.id = b.id', resultPublicKey })`.
 */
export function createMultiJobRequest(input: MultiJobRequestInput): MultiJobRequest {
  const now = input.now ?? (() => Math.floor(Date.now() / 1000))
  return checkMultiJobRequest({
    parts: input.parts.map((p) => ({
      licenceId: p.licenceId.toString(),
      contentHash: p.contentHash.toLowerCase() as Hex,
      table: p.table,
    })),
    queryHash: queryHashOf(input.query),
    resultPublicKey: input.resultPublicKey.toLowerCase() as Hex,
    nonce: (input.nonce ?? bytesToHex(randomBytes(32))).toLowerCase() as Hex,
    deadline: input.deadline ?? now() + 15 * 60,
  })
}

/** Anything that signs EIP-712 typed data the way ethers' Signer does. */
export interface TypedDataSigner {
  signTypedData(
    domain: Record<string, unknown>,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>
}

/** The market this job is for: the JobRequest domain is (chainId, DataMarket). */
export interface MarketRef {
  chainId: number
  dataMarket: string
}

export async function signJobRequest(signer: TypedDataSigner, request: JobRequest, market: MarketRef): Promise<Hex> {
  const types = { JobRequest: [...JOB_REQUEST_TYPES.JobRequest] } as Record<string, TypedDataField[]>
  const domain = jobRequestDomain(market.chainId, market.dataMarket) as unknown as Record<string, unknown>
  return (await signer.signTypedData(domain, types, { ...request })) as Hex
}

export async function signMultiJobRequest(
  signer: TypedDataSigner,
  request: MultiJobRequest,
  market: MarketRef,
): Promise<Hex> {
  const types = {
    MultiJobRequest: [...MULTI_JOB_REQUEST_TYPES.MultiJobRequest],
    JobPart: [...MULTI_JOB_REQUEST_TYPES.JobPart],
  } as Record<string, TypedDataField[]>
  const domain = jobRequestDomain(market.chainId, market.dataMarket) as unknown as Record<string, unknown>
  return (await signer.signTypedData(domain, types, {
    ...request,
    parts: request.parts.map((p) => ({ ...p })),
  })) as Hex
}

export function submitJob(
  api: ApiClient,
  job: { request: JobRequest | MultiJobRequest; signature: string; query: string },
) {
  return api.request<AcceptedJob>('/jobs', { method: 'POST', json: job })
}

export function getJob(api: ApiClient, jobId: string) {
  return api.request<JobView>(`/jobs/${jobId}`)
}

export interface WaitOptions {
  /** Called on every status change. */
  onStatus?: (job: JobView) => void
  intervalMs?: number
  /** Stop waiting (the job carries on) after this long; default until the request's deadline. */
  timeoutMs?: number
  sleep?: (ms: number) => Promise<void>
  /** Stop waiting when aborted (the job carries on); rejects with the signal's reason. */
  signal?: AbortSignal
}

/** Polls until the job finishes. Succeeded → the view; failed or expired → JobNotSucceededError. */
export async function waitForJob(api: ApiClient, jobId: string, opts: WaitOptions = {}): Promise<JobView> {
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)))
  const started = Date.now()
  let last: JobStatus | undefined
  for (let i = 0; ; i++) {
    opts.signal?.throwIfAborted()
    const job = await getJob(api, jobId)
    opts.signal?.throwIfAborted()
    if (job.status !== last) opts.onStatus?.(job)
    last = job.status
    if (job.status === 'succeeded') return job
    if (job.status === 'failed' || job.status === 'expired') throw new JobNotSucceededError(job)
    const limit = opts.timeoutMs ?? (job.deadline + 30) * 1000 - started
    if (Date.now() - started > limit)
      throw new StillflowError(`job ${jobId} is still ${job.status}`, { details: 'stopped waiting; it carries on' })
    await sleep(Math.min(opts.intervalMs ?? 250 * 2 ** Math.min(i, 3), 2000))
  }
}

export function fetchJobResult(api: ApiClient, jobId: string) {
  return api.request<SealedJobResult>(`/jobs/${jobId}/result`)
}

export interface OpenOptions {
  /** Check the receipt was for this chain and ledger. */
  chainId?: number
  computeLedger?: string
  /** Check the enclave code that ran the job (e.g. the measurement approved in EnclaveRegistry). */
  expectedMeasurement?: string
}

/**
 * Checks that the sealed bytes are what the enclave's receipt commits to (resultHash = SHA-256, same
 * job id, valid signature), then opens them with the job's result key.
 */
export async function openJobResult(
  result: SealedJobResult,
  secretKey: Uint8Array,
  opts: OpenOptions = {},
): Promise<QueryResult> {
  let receipt
  try {
    receipt =
      'parts' in result.receipt.receipt
        ? verifyGroupReceipt(result.receipt as SignedGroupReceipt, opts)
        : verifyReceipt(result.receipt as SignedReceipt, opts)
  } catch (cause) {
    throw new ResultVerificationError('the job receipt does not verify', { cause })
  }
  if (receipt.jobId.toLowerCase() !== result.jobId.toLowerCase())
    throw new ResultVerificationError('the receipt is for another job')
  const sealed = hexBytes(result.sealedResult)
  if (bytesToHex(sha256(sealed)) !== receipt.resultHash.toLowerCase())
    throw new ResultVerificationError('the sealed result is not the one the receipt commits to')
  const plain = await openResult(sealed, secretKey, result.jobId)
  try {
    return JSON.parse(new TextDecoder().decode(plain)) as QueryResult
  } finally {
    plain.fill(0)
  }
}

function hexBytes(hex: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex
  if (!/^([0-9a-fA-F]{2})*$/.test(h)) throw new ResultVerificationError('sealedResult is not hex')
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16))
}

export interface RunJobOptions extends WaitOptions {
  api: ApiClient
  signer: TypedDataSigner
  market: MarketRef
  /** One asset: its licence and content hash (the query names the table `data`)… */
  licenceId?: string | bigint
  contentHash?: string
  /** …or several (R67): each part's licence, asset and the table name the query uses for it. */
  parts?: JobPartInput[]
  query: string
  deadline?: number
  computeLedger?: string
  expectedMeasurement?: string
  /**
   * Called once the request is signed and before it is submitted, with the job id (the request digest)
   * and its result key: the moment to keep the key somewhere that outlives this call, so the result can
   * still be opened (collectJobResult) if the caller stops waiting. If it throws, nothing is submitted.
   * The key bytes are wiped when runComputeJob returns: copy them, do not keep the array.
   */
  beforeSubmit?: (job: PendingJob) => void | Promise<void>
  onSubmitted?: (job: AcceptedJob) => void
}

/** A signed job about to be submitted: its id (the request digest) and the key its result is sealed to. */
export interface PendingJob {
  jobId: Hex
  resultKey: ResultKey
  /** The request's deadline, Unix seconds. */
  deadline: number
}

export interface JobOutcome {
  jobId: Hex
  result: QueryResult
  receipt: SignedReceipt | SignedGroupReceipt
  txHash: string | null
  job: JobView
}

/**
 * Waits for a submitted job, fetches its sealed result, verifies it against the enclave's receipt and
 * opens it with the job's result key: the second half of runComputeJob, also for a job submitted earlier
 * (e.g. by a process that stopped waiting) whose result key was kept.
 */
export async function collectJobResult(
  api: ApiClient,
  jobId: string,
  secretKey: Uint8Array,
  opts: WaitOptions & OpenOptions = {},
): Promise<JobOutcome> {
  const job = await waitForJob(api, jobId, opts)
  const sealed = await fetchJobResult(api, jobId)
  if (sealed.jobId.toLowerCase() !== jobId.toLowerCase())
    throw new ResultVerificationError('the marketplace returned the result of another job')
  const result = await openJobResult(sealed, secretKey, {
    chainId: opts.chainId,
    computeLedger: opts.computeLedger,
    expectedMeasurement: opts.expectedMeasurement,
  })
  return { jobId: sealed.jobId, result, receipt: sealed.receipt, txHash: sealed.txHash, job }
}

/** The whole buyer flow: result key, sign, submit, wait, fetch, verify, decrypt. The key is wiped after. */
export async function runComputeJob(opts: RunJobOptions): Promise<JobOutcome> {
  const key = generateResultKey()
  try {
    const common = { query: opts.query, resultPublicKey: key.publicKey, deadline: opts.deadline }
    const { chainId, dataMarket } = opts.market
    let request: JobRequest | MultiJobRequest
    let signature: Hex
    let expectedId: Hex
    if (opts.parts) {
      const multi = createMultiJobRequest({ ...common, parts: opts.parts })
      signature = await signMultiJobRequest(opts.signer, multi, opts.market)
      expectedId = multiJobIdOf(multi, chainId, dataMarket)
      request = multi
    } else {
      if (opts.licenceId === undefined || opts.contentHash === undefined)
        throw new StillflowError('a job needs licenceId and contentHash, or parts')
      const single = createJobRequest({ ...common, licenceId: opts.licenceId, contentHash: opts.contentHash })
      signature = await signJobRequest(opts.signer, single, opts.market)
      expectedId = jobIdOf(single, chainId, dataMarket)
      request = single
    }
    await opts.beforeSubmit?.({ jobId: expectedId, resultKey: key, deadline: request.deadline })
    const accepted = await submitJob(opts.api, { request, signature, query: opts.query })
    if (accepted.jobId.toLowerCase() !== expectedId)
      throw new ResultVerificationError('the marketplace returned another job id than the request digest')
    opts.onSubmitted?.(accepted)
    return await collectJobResult(opts.api, accepted.jobId, key.secretKey, {
      ...opts,
      chainId: opts.market.chainId,
    })
  } finally {
    key.secretKey.fill(0)
  }
}
