// Running one compute job from the queue (DESIGN §3 "Compute job" steps 2–5): ask the enclave, keep the
// sealed result in R2, record the enclave's receipt on chain, mark the job succeeded. Every step is safe
// to repeat for the same job id — the enclave answers a job id once and charges once, R2 keys are per job,
// and ComputeLedger records a job id once — so a redelivered or re-swept message can never run a job
// twice or pay twice. Quota and ε are spent only by the recorded receipt: a job that fails or passes its
// deadline before recording costs the buyer nothing.
import { Interface } from 'ethers'
import { computeLedgerAbi, dataMarketAbi } from '../../../contracts/index'
// tee-sim's client-side protocol, module by module (its index re-exports enclave types too).
import { bytesToHex, hexToBytes } from '../../../tee-sim/src/bytes'
import {
  verifyGroupReceipt,
  verifyReceipt,
  type SignedGroupReceipt,
  type SignedReceipt,
} from '../../../tee-sim/src/receipt'
import type { Bindings } from '../env'
import { readContracts, rpcBatch } from '../services/chain'
import { addressBook, requireSetting, reaching } from '../services/config'
import { UpstreamError } from '../services/enclave'
import {
  ContractRevertError,
  recordReceipt,
  relayerHasPendingTransactions,
  sendFromRelayer,
  type SentTransaction,
} from '../services/relayer'
import {
  expiredUnanswered,
  finishUnpaid,
  getJob,
  lastReason,
  getParts,
  setPartCharges,
  nowSeconds,
  resultKey,
  retentionSeconds,
  updateLive,
  type JobPartRow,
  type JobRow,
  type Reason,
} from './store'

/**
 * How long past its deadline an answered job waits for a recording the relayer sent before the deadline
 * and the chain has not mined yet. The enclave stops counting an unrecorded job after the same grace
 * (tee-sim RECORDING_GRACE_S), so both sides settle on "unpaid" together.
 */
export const PENDING_RECORDING_GRACE_S = 300

/** A failure worth retrying later (a component unreachable or busy); the job stays live. */
export class TransientJobError extends Error {
  override name = 'TransientJobError'
  constructor(readonly reason: Reason) {
    super(`${reason.code}: ${reason.message}`)
  }
}

export type RunOutcome = JobRow['status'] | 'missing'
type AnyReceipt = SignedReceipt | SignedGroupReceipt

const ledger = new Interface(computeLedgerAbi)

/** Runs (or resumes) one job. Throws TransientJobError when it should be retried. */
export async function runJob(env: Bindings, jobId: string): Promise<RunOutcome> {
  const row = await getJob(env, jobId)
  if (!row) return 'missing'
  if (row.status !== 'queued' && row.status !== 'running') return row.status

  // A job across assets (R67) has parts; its receipt is one GroupReceipt covering them all.
  const parts = await getParts(env, jobId)
  let signed: AnyReceipt | undefined = row.receipt ? (JSON.parse(row.receipt) as AnyReceipt) : undefined
  if (!signed) {
    if (nowSeconds() > row.deadline) {
      await finishUnpaid(env, jobId, 'expired', expiredUnanswered(lastReason(row)))
      return 'expired'
    }
    await updateLive(env, jobId, { status: 'running', attempts: row.attempts + 1 })
    const outcome = await askEnclave(env, row, parts)
    if ('failed' in outcome) {
      await finishUnpaid(env, jobId, 'failed', outcome.failed)
      return 'failed'
    }
    if ('gone' in outcome) {
      await env.BLOBS.delete(resultKey(jobId))
      return (await getJob(env, jobId))?.status ?? 'missing'
    }
    signed = outcome.signed
  }

  if (nowSeconds() > row.deadline) {
    // The enclave answered, but too late to be recorded under the buyer's deadline. If an earlier attempt's
    // transaction did land, the job is paid for and succeeded; otherwise it expires and costs nothing.
    const landed = await findRecording(env, jobId, parts.length > 0)
    if (landed) return succeed(env, row, landed)
    // A recording sent before the deadline may still be waiting to be mined: expiring now would delete
    // the result of a job the buyer is then charged for. Wait for the relayer's pending transactions.
    if (nowSeconds() <= row.deadline + PENDING_RECORDING_GRACE_S && (await relayerHasPendingTransactions(env)))
      throw new TransientJobError({
        code: 'recording_pending',
        message: 'the deadline passed while a relayer transaction is still pending; waiting for it to be mined',
      })
    await finishUnpaid(env, jobId, 'expired', {
      code: 'deadline_passed',
      message: 'the deadline passed before the receipt was recorded; nothing was charged',
    })
    return 'expired'
  }

  try {
    const sent = parts.length
      ? await recordGroupReceipt(env, signed as SignedGroupReceipt)
      : await recordReceipt(env, signed as SignedReceipt)
    return succeed(env, row, { txHash: sent.txHash, blockNumber: sent.blockNumber })
  } catch (err) {
    if (err instanceof ContractRevertError) {
      if (err.errorName === 'ComputeLedgerJobAlreadyRecorded') {
        const landed = await findRecording(env, jobId, parts.length > 0)
        return succeed(env, row, landed ?? { txHash: null, blockNumber: null })
      }
      // The ledger refused the receipt (licence expired, quota or ε spent meanwhile, asset revoked or
      // frozen, enclave deregistered): nothing was spent.
      await finishUnpaid(env, jobId, 'failed', receiptRefusal(err))
      return 'failed'
    }
    throw new TransientJobError({ code: 'chain_unavailable', message: messageOf(err) })
  }
}

interface Landed {
  txHash: string | null
  blockNumber: number | null
}

async function succeed(env: Bindings, row: JobRow, landed: Landed): Promise<'succeeded'> {
  const now = nowSeconds()
  await updateLive(env, row.jobId, {
    status: 'succeeded',
    receiptTx: landed.txHash,
    receiptBlock: landed.blockNumber,
    finishedAt: now,
    resultExpiresAt: now + retentionSeconds(env),
    reasonCode: null,
    reasonMessage: null,
    lastError: null,
  })
  return 'succeeded'
}

/**
 * The URL the enclave host fetches the ciphertext (of part `part` of a job across assets) from; its
 * integrity is the enclave's to check.
 */
export function ciphertextUrl(
  env: Bindings,
  row: Pick<JobRow, 'jobId' | 'ciphertextCid' | 'origin'>,
  part?: Pick<JobPartRow, 'part' | 'ciphertextCid'>,
): string {
  const cid = part?.ciphertextCid ?? row.ciphertextCid
  if (env.IPFS_GATEWAY_URL) return `${env.IPFS_GATEWAY_URL.replace(/\/+$/, '')}/ipfs/${cid}`
  return `${row.origin}/api/jobs/${row.jobId}/ciphertext${part ? `/${part.part}` : ''}`
}

/** Records a job across assets: one transaction charging every part, or none (R67). */
function recordGroupReceipt(env: Bindings, signed: SignedGroupReceipt): Promise<SentTransaction> {
  const r = signed.receipt
  const receipt = [
    r.jobId,
    r.queryHash,
    r.resultHash,
    r.measurement,
    r.parts.map((p) => [BigInt(p.licenceId), p.contentHash, BigInt(p.epsilonSpentMilli)]),
  ]
  return sendFromRelayer(env, {
    contract: 'ComputeLedger',
    abi: computeLedgerAbi,
    fn: 'recordGroupReceipt',
    args: [receipt, signed.signature],
    errorAbis: [dataMarketAbi],
  })
}

/**
 * Calls the enclave host. A refusal (4xx) fails the job with the enclave's own code; an unreachable or
 * unavailable enclave (network, 5xx, 503) is transient. A valid answer is checked against the request and
 * stored (sealed bytes in R2, receipt in D1) before anything is recorded.
 */
async function askEnclave(
  env: Bindings,
  row: JobRow,
  parts: JobPartRow[],
): Promise<{ signed: AnyReceipt } | { failed: Reason } | { gone: true }> {
  const url = `${requireSetting(env, 'ENCLAVE_URL')}/jobs`
  const common = {
    queryHash: row.queryHash,
    resultPublicKey: row.resultPublicKey,
    nonce: row.nonce,
    deadline: row.deadline,
  }
  // The request exactly as the buyer signed it (the enclave recomputes the job id from it).
  const request = parts.length
    ? {
        parts: parts.map((p) => ({ licenceId: p.licenceId, contentHash: p.contentHash, table: p.tableName })),
        ...common,
      }
    : { licenceId: row.licenceId, contentHash: row.contentHash, ...common }
  const sources = parts.length
    ? { ciphertextUrls: parts.map((p) => ciphertextUrl(env, row, p)) }
    : { ciphertextUrl: ciphertextUrl(env, row) }
  let res: Response
  try {
    res = await reaching('the enclave host', url, () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          request,
          signature: row.signature,
          query: row.query,
          ...sources,
        }),
        // A hung enclave must not hold the job past its deadline, after which no answer could be recorded;
        // the retry then finds the deadline passed and ends the job unpaid.
        signal: AbortSignal.timeout(Math.max(5, row.deadline - nowSeconds() + 5) * 1000),
      }),
    )
  } catch (err) {
    throw new TransientJobError({ code: 'enclave_unavailable', message: messageOf(err) })
  }
  if (!res.ok) {
    const upstream = new UpstreamError('enclave', res.status, await res.text())
    const reason = { code: upstream.code, message: upstream.message }
    if (res.status >= 500 || res.status === 408) throw new TransientJobError(reason)
    return { failed: reason }
  }
  const out = (await res.json()) as EnclaveOutput
  const problem = checkEnclaveOutput(env, row, parts, out)
  if (problem) return { failed: { code: 'enclave_output_invalid', message: problem } }
  const signed = out.receipt as AnyReceipt
  const sealed = hexToBytes(out.sealedResult as string)
  if ((await sha256Hex(sealed)) !== signed.receipt.resultHash.toLowerCase())
    return { failed: { code: 'enclave_output_invalid', message: 'resultHash is not the SHA-256 of the sealed result' } }
  await env.BLOBS.put(resultKey(row.jobId), sealed, {
    httpMetadata: { contentType: 'application/octet-stream' },
    customMetadata: { resultHash: signed.receipt.resultHash },
  })
  const charged = 'parts' in signed.receipt ? signed.receipt.parts.map((p) => p.epsilonSpentMilli) : []
  const stored = await updateLive(env, row.jobId, {
    receipt: JSON.stringify(signed),
    resultHash: signed.receipt.resultHash,
    resultSize: sealed.byteLength,
    // A job across assets: the sum here, each part's share on its part row.
    epsilonSpentMilli:
      'parts' in signed.receipt ? charged.reduce((a, b) => a + b, 0) : signed.receipt.epsilonSpentMilli,
    measurement: signed.receipt.measurement,
    lastError: null,
  })
  // The sweeper expired the job while the enclave worked: it must not be recorded (and so not charged).
  if (!stored) return { gone: true }
  if (charged.length) await setPartCharges(env, row.jobId, charged)
  return { signed }
}

interface EnclaveOutput {
  jobId?: string
  sealedResult?: string
  receipt?: AnyReceipt
}

/** Why an enclave answer does not belong to this job, or undefined when it does. */
function checkEnclaveOutput(env: Bindings, row: JobRow, parts: JobPartRow[], out: EnclaveOutput): string | undefined {
  if (typeof out.sealedResult !== 'string' || !/^0x([0-9a-f]{2})+$/i.test(out.sealedResult)) return 'no sealed result'
  if (out.jobId?.toLowerCase() !== row.jobId) return 'the answer is for another job id'
  const book = addressBook(env)
  const opts = { chainId: book.chainId, computeLedger: book.contracts.ComputeLedger }
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
  try {
    if (parts.length) {
      const receipt = verifyGroupReceipt(out.receipt as SignedGroupReceipt, opts)
      if (!same(receipt.jobId, row.jobId)) return 'the receipt names another job'
      if (!same(receipt.queryHash, row.queryHash)) return 'the receipt names another query'
      if (
        receipt.parts.length !== parts.length ||
        receipt.parts.some((p, i) => p.licenceId !== parts[i].licenceId || !same(p.contentHash, parts[i].contentHash))
      )
        return 'the receipt names other licences or assets than the request'
      return undefined
    }
    const receipt = verifyReceipt(out.receipt as SignedReceipt, opts)
    if (!same(receipt.jobId, row.jobId)) return 'the receipt names another job'
    if (receipt.licenceId !== row.licenceId) return 'the receipt names another licence'
    if (!same(receipt.contentHash, row.contentHash)) return 'the receipt names another asset'
    if (!same(receipt.queryHash, row.queryHash)) return 'the receipt names another query'
    return undefined
  } catch (err) {
    return `the receipt does not verify: ${messageOf(err)}`
  }
}

/** SHA-256 of the sealed result bytes, as the receipt's resultHash (tee-sim README). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)))
}

/** The `JobRecorded` (or, for a job across assets, `GroupJobRecorded`) log of a job, when it is on chain. */
async function findRecording(env: Bindings, jobId: string, group: boolean): Promise<Landed | undefined> {
  const [[recorded]] = await readContracts(env, [
    { contract: 'ComputeLedger', abi: computeLedgerAbi, fn: 'isJobRecorded', args: [jobId] },
  ])
  if (!recorded) return undefined
  const book = addressBook(env)
  const [logs] = (await rpcBatch(env, [
    [
      'eth_getLogs',
      [
        {
          address: book.contracts.ComputeLedger,
          fromBlock: `0x${book.deployedAtBlock.toString(16)}`,
          toBlock: 'latest',
          topics: [ledger.getEvent(group ? 'GroupJobRecorded' : 'JobRecorded')!.topicHash, jobId],
        },
      ],
    ],
  ])) as Array<Array<{ transactionHash: string; blockNumber: string }>>
  const log = logs[0]
  return log
    ? { txHash: log.transactionHash, blockNumber: Number(log.blockNumber) }
    : { txHash: null, blockNumber: null }
}

/**
 * The ledger's refusals of a receipt, as a stable reason code and what happened in words; the contract's
 * error, with its arguments, stays at the end of the message for support.
 */
const RECEIPT_REFUSALS: Record<string, [code: string, words: string]> = {
  DataMarketLicenceExpired: ['licence_expired', 'the licence expired before the result could be recorded'],
  DataMarketJobQuotaExhausted: ['quota_exhausted', 'the licence had no jobs left when the result was recorded'],
  DataMarketEpsilonBudgetExceeded: [
    'budget_exhausted',
    'the licence had too little ε left when the result was recorded',
  ],
  DataMarketAssetRevoked: ['asset_revoked', 'the owner revoked the asset before the result was recorded'],
  DataMarketAssetFrozen: ['asset_frozen', 'a supervisor froze the asset before the result was recorded'],
  DataMarketUnknownLicence: ['licence_not_found', 'the licence does not exist'],
  ComputeLedgerUnknownEnclave: ['enclave_not_registered', 'the enclave’s key is not registered in EnclaveRegistry'],
  ComputeLedgerMeasurementMismatch: [
    'measurement_mismatch',
    'the receipt names another enclave build than the one its key was registered with',
  ],
  ComputeLedgerMeasurementNotApproved: [
    'measurement_not_approved',
    'the enclave’s build is not approved in EnclaveRegistry (a supervisor retired it)',
  ],
  ComputeLedgerContentMismatch: ['content_mismatch', 'the receipt names other content than the licence’s asset'],
  ComputeLedgerDuplicateLicence: ['duplicate_licence', 'a licence appears twice in the job'],
  ComputeLedgerGroupSize: ['invalid_job', 'the job has too few or too many parts'],
}

export function receiptRefusal(err: ContractRevertError): { code: string; message: string } {
  const [code, words] = RECEIPT_REFUSALS[err.errorName] ?? ['receipt_refused', 'the ledger refused the receipt']
  return { code, message: `${words}; nothing was charged (${err.message})` }
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).slice(0, 300)
}
