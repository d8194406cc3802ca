// Checks a job receipt — of one asset, or a group receipt of a job across assets (R67) — in the browser
// against the chain itself (R23, R24): the enclave's EIP-712
// signature, the signer's registration and measurement in EnclaveRegistry, and the record ComputeLedger
// keeps. Only the address book and a read-only RPC door (/api/rpc) come from this marketplace; every
// fact is read from the chain or recomputed here, so a tampered receipt or a lying index cannot pass.
import {
  Contract,
  getAddress,
  Interface,
  JsonRpcProvider,
  TypedDataEncoder,
  verifyTypedData,
  type Log,
  type TypedDataField,
} from 'ethers'
import { computeLedgerAbi, enclaveRegistryAbi } from '../../../contracts/generated'
import { groupReceiptTypes, jobReceiptDomain, jobReceiptTypes } from '../../../contracts/index'
import type {
  GroupReceipt,
  Hex,
  JobReceipt as ReceiptFields,
  SignedGroupReceipt,
  SignedReceipt,
} from '../../../tee-sim/src/index'

// One definition of the receipt's shape: tee-sim's (what the enclave signs); type-only, nothing is bundled.
export type {
  GroupReceipt,
  JobReceipt as ReceiptFields,
  SignedGroupReceipt,
  SignedReceipt,
} from '../../../tee-sim/src/index'

/** Either kind: one asset's receipt, or one signature over every part of a job across assets. */
export type AnySignedReceipt = SignedReceipt | SignedGroupReceipt
export const isGroup = (s: AnySignedReceipt): s is SignedGroupReceipt => 'parts' in s.receipt

export interface AddressBook {
  chainId: number
  contracts: Record<string, string>
  deployedAtBlock: number
}

export type CheckKey = 'chain' | 'signature' | 'registered' | 'approved' | 'recorded'
export interface Check {
  key: CheckKey
  ok: boolean
  /** What was checked, in a few words. */
  label: string
  /** What was found, in a sentence. */
  detail: string
}

export interface Verdict {
  ok: boolean
  /** One plain-language sentence: what the receipt proves, or the precise reason it fails. */
  summary: string
  checks: Check[]
  signed: AnySignedReceipt
  record?: { txHash: string; blockNumber: number }
}

/** A mistake in what was pasted, or a receipt that cannot be found; shown as the verdict's reason. */
export class ReceiptInputError extends Error {
  override name = 'ReceiptInputError'
}

const HASH = /^0x[0-9a-fA-F]{64}$/
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const ZERO32 = '0x' + '00'.repeat(32)
const ledgerInterface = new Interface(computeLedgerAbi)
const TYPES = jobReceiptTypes as unknown as Record<string, TypedDataField[]>
const GROUP_TYPES = groupReceiptTypes as unknown as Record<string, TypedDataField[]>
const typesOf = (r: ReceiptFields | GroupReceipt) => ('parts' in r ? GROUP_TYPES : TYPES)
const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase()
const short = (h: string) => (h.length > 20 ? `${h.slice(0, 10)}…${h.slice(-8)}` : h)

/** What one field must hold, in the words a reader gets when it does not. */
interface FieldRule {
  /** What the field is, e.g. "an address". */
  what: string
  /** Its written form, e.g. "0x followed by 40 hex digits". */
  form: string
  ok: (v: unknown) => boolean
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const RULES = {
  object: { what: 'an object', form: 'a JSON object in braces', ok: isObject },
  hash: { what: 'a hash', form: '0x followed by 64 hex digits', ok: (v) => typeof v === 'string' && HASH.test(v) },
  address: {
    what: 'an address',
    form: '0x followed by 40 hex digits',
    ok: (v) => typeof v === 'string' && ADDRESS.test(v),
  },
  signature: {
    what: 'a signature',
    form: '65 bytes of 0x hex (r ‖ s ‖ v)',
    ok: (v) => typeof v === 'string' && /^0x[0-9a-fA-F]{130}$/.test(v),
  },
  licenceId: {
    what: 'a licence id',
    form: 'a decimal number in a string, like "7"',
    ok: (v) => typeof v === 'string' && /^[0-9]{1,78}$/.test(v),
  },
  epsilon: {
    what: 'an amount of ε',
    form: 'a non-negative integer (thousandths of ε)',
    ok: (v) => Number.isSafeInteger(v) && (v as number) >= 0,
  },
  chainId: { what: 'a chain id', form: 'a positive integer', ok: (v) => Number.isSafeInteger(v) && (v as number) > 0 },
} satisfies Record<string, FieldRule>

/** A pasted value as the reader typed it, cut short: enough to spot the mistake, never a wall of text. */
const shown = (v: unknown): string => {
  const cut = (t: string) => (t.length > 24 ? `${t.slice(0, 23)}…` : t)
  return typeof v === 'string' ? JSON.stringify(cut(v)) : cut(JSON.stringify(v) ?? String(v))
}

/**
 * Checks the field at `path` (its value `v`) against `rule`. A missing field and a malformed one are
 * different mistakes — the first usually means part of the receipt was lost when it was copied — so each
 * gets its own words.
 */
function need(v: unknown, path: string, rule: FieldRule): void {
  if (v === undefined)
    throw new ReceiptInputError(
      `The receipt has no "${path}" field — paste the whole receipt JSON as the marketplace gave it.`,
    )
  if (!rule.ok(v))
    throw new ReceiptInputError(`"${path}" is not ${rule.what}: it must be ${rule.form}, not ${shown(v)}.`)
}

/** The receipt's shape, field by field (either kind); the error names the first bad field. */
export function checkShape(value: unknown): AnySignedReceipt {
  if (!isObject(value)) throw new ReceiptInputError('The receipt must be a JSON object.')
  need(value.receipt, 'receipt', RULES.object)
  const r = value.receipt as Record<string, unknown>
  const group = r.parts !== undefined
  const hashes = group
    ? ['jobId', 'queryHash', 'resultHash', 'measurement']
    : ['jobId', 'contentHash', 'queryHash', 'resultHash', 'measurement']
  for (const k of hashes) need(r[k], `receipt.${k}`, RULES.hash)
  if (group) {
    const parts: unknown = r.parts
    if (!Array.isArray(parts) || parts.length < 2)
      throw new ReceiptInputError(`"receipt.parts" must list two or more parts, not ${shown(parts)}.`)
    parts.forEach((p: unknown, i) => {
      need(p, `receipt.parts[${i}]`, RULES.object)
      checkCharge(p as Record<string, unknown>, `receipt.parts[${i}]`)
    })
  } else checkCharge(r, 'receipt')
  need(value.signature, 'signature', RULES.signature)
  need(value.signer, 'signer', RULES.address)
  need(value.chainId, 'chainId', RULES.chainId)
  need(value.computeLedger, 'computeLedger', RULES.address)
  return value as unknown as AnySignedReceipt
}

/** What one licence was charged: its id, the dataset's content hash (parts only) and ε. */
function checkCharge(c: Record<string, unknown>, where: string): void {
  if (where !== 'receipt') need(c.contentHash, `${where}.contentHash`, RULES.hash)
  need(c.licenceId, `${where}.licenceId`, RULES.licenceId)
  need(c.epsilonSpentMilli, `${where}.epsilonSpentMilli`, RULES.epsilon)
}

/** The EIP-712 digest the enclave signed and ComputeLedger.hashReceipt (or hashGroupReceipt) computes. */
export function receiptDigest(s: AnySignedReceipt): string {
  return TypedDataEncoder.hash(jobReceiptDomain(s.chainId, s.computeLedger), typesOf(s.receipt), s.receipt)
}

/** Everything the checks read, bound to one chain. */
export interface ChainReader {
  provider: JsonRpcProvider
  book: AddressBook
  /** Fetches a path of this marketplace's API (only used to find a job that is not on chain yet). */
  api: (path: string) => Promise<Response>
}

/** The address book and a provider through the read-only RPC door of the site's own worker. */
export async function connect(origin: string): Promise<ChainReader> {
  const api = (path: string) => fetch(new URL(path, origin), { headers: { accept: 'application/json' } })
  const res = await api('/api/chain')
  if (!res.ok) throw new Error(`the marketplace's address book could not be read (HTTP ${res.status})`)
  const book = (await res.json()) as AddressBook
  if (!book.contracts?.ComputeLedger) throw new Error('the address book names no ComputeLedger')
  const provider = new JsonRpcProvider(new URL('/api/rpc', origin).href, book.chainId, {
    staticNetwork: true,
    batchMaxCount: 10,
  })
  return { provider, book, api }
}

/** The signed receipt carried by the `recordReceipt` or `recordGroupReceipt` transaction `txHash`, or null if there is none. */
async function receiptFromTransaction(chain: ChainReader, txHash: string) {
  const tx = await chain.provider.getTransaction(txHash)
  if (!tx) return null
  const ledger = chain.book.contracts.ComputeLedger
  const call = tx.to && same(tx.to, ledger) ? ledgerInterface.parseTransaction({ data: tx.data }) : null
  if (call?.name !== 'recordReceipt' && call?.name !== 'recordGroupReceipt')
    throw new ReceiptInputError(
      `Transaction ${txHash} is not a ComputeLedger.recordReceipt or recordGroupReceipt call, so it holds no receipt.`,
    )
  const r = call.args[0]
  const fields: ReceiptFields | GroupReceipt =
    call.name === 'recordReceipt'
      ? {
          jobId: String(r.jobId) as Hex,
          licenceId: String(r.licenceId),
          contentHash: String(r.contentHash) as Hex,
          queryHash: String(r.queryHash) as Hex,
          resultHash: String(r.resultHash) as Hex,
          epsilonSpentMilli: Number(r.epsilonSpentMilli),
          measurement: String(r.measurement) as Hex,
        }
      : {
          jobId: String(r.jobId) as Hex,
          queryHash: String(r.queryHash) as Hex,
          resultHash: String(r.resultHash) as Hex,
          measurement: String(r.measurement) as Hex,
          parts: Array.from(
            r.parts as Array<{ licenceId: bigint; contentHash: string; epsilonSpentMilli: bigint }>,
            (p) => ({
              licenceId: String(p.licenceId),
              contentHash: String(p.contentHash) as Hex,
              epsilonSpentMilli: Number(p.epsilonSpentMilli),
            }),
          ),
        }
  const partial = {
    receipt: fields,
    signature: String(call.args[1]) as Hex,
    chainId: chain.book.chainId,
    computeLedger: ledger as Hex,
  } as Omit<AnySignedReceipt, 'signer'>
  // The calldata carries no signer name: the signer is whoever the signature recovers to (checked next).
  let signer: string
  try {
    signer = verifyTypedData(jobReceiptDomain(partial.chainId, ledger), typesOf(fields), fields, partial.signature)
  } catch {
    throw new ReceiptInputError(`The signature in transaction ${txHash} is malformed.`)
  }
  return { signed: { ...partial, signer: signer as Hex } as AnySignedReceipt, txHash }
}

/** The JobRecorded (or, for a job across assets, GroupJobRecorded) log of `jobId`, if ComputeLedger has one. */
async function recordedLog(chain: ChainReader, jobId: string): Promise<Log | null> {
  const logs = await chain.provider.getLogs({
    address: chain.book.contracts.ComputeLedger,
    topics: [
      [ledgerInterface.getEvent('JobRecorded')!.topicHash, ledgerInterface.getEvent('GroupJobRecorded')!.topicHash],
      jobId,
    ],
    fromBlock: chain.book.deployedAtBlock ?? 0,
    toBlock: 'latest',
  })
  return logs[0] ?? null
}

/**
 * Turns what a person pasted into a signed receipt: receipt JSON (bare, as the API gives it, or as
 * `stillflow job --json` prints it), a `recordReceipt` transaction hash, or a job id (found through its
 * JobRecorded event on chain; a job not recorded yet is explained from the API).
 */
export async function openReceipt(
  chain: ChainReader,
  input: string,
): Promise<{ signed: AnySignedReceipt; txHash?: string }> {
  const trimmed = input.trim()
  if (!trimmed) throw new ReceiptInputError('Paste a receipt (JSON), a job id or a transaction hash.')
  // A 64-digit id copied without its 0x (some explorers and terminals drop it) is the same id.
  const text = /^[0-9a-fA-F]{64}$/.test(trimmed) ? `0x${trimmed}` : trimmed
  if (text.startsWith('{')) {
    let json: Record<string, unknown>
    try {
      json = JSON.parse(text)
    } catch {
      throw new ReceiptInputError('This is not valid JSON; paste the receipt exactly as the CLI or the API printed it.')
    }
    // `stillflow job --json` nests the signed receipt one level down.
    const inner = json.receipt as Record<string, unknown> | undefined
    const signed = inner && typeof inner === 'object' && 'receipt' in inner ? inner : json
    return { signed: checkShape(signed), txHash: typeof json.txHash === 'string' ? json.txHash : undefined }
  }
  if (!HASH.test(text))
    throw new ReceiptInputError(
      'A job id or transaction hash is 0x followed by 64 hex digits; anything else must be receipt JSON.',
    )
  const fromTx = await receiptFromTransaction(chain, text)
  if (fromTx) return fromTx
  const log = await recordedLog(chain, text)
  if (log) return (await receiptFromTransaction(chain, log.transactionHash))!
  const job = await chain.api(`/api/jobs/${text}`)
  if (job.ok) {
    const view = (await job.json()) as { status: string; reason?: { message: string } }
    throw new ReceiptInputError(
      `Job ${short(text)} is ${view.status}${view.reason ? ` (${view.reason.message})` : ''}: ComputeLedger has no receipt for it yet.`,
    )
  }
  throw new ReceiptInputError(`Chain ${chain.book.chainId} has no receipt, job or transaction with id ${text}.`)
}

/** Runs every check; the verdict's summary names the first failure, or what the receipt proves. */
export async function checkReceipt(chain: ChainReader, signed: AnySignedReceipt): Promise<Verdict> {
  const checks: Check[] = []
  const r = signed.receipt
  const ledgerAddress = chain.book.contracts.ComputeLedger

  // 1. This marketplace's chain and ledger: the signature's domain binds both.
  const chainId = Number(await chain.provider.send('eth_chainId', []))
  const chainOk = signed.chainId === chainId && same(signed.computeLedger, ledgerAddress)
  checks.push({
    key: 'chain',
    ok: chainOk,
    label: 'For this marketplace',
    detail: chainOk
      ? `Chain ${chainId}, ComputeLedger ${ledgerAddress}.`
      : signed.chainId !== chainId
        ? `The receipt is for chain ${signed.chainId}, but this marketplace runs on chain ${chainId}.`
        : `The receipt names ComputeLedger ${signed.computeLedger}, but this marketplace's is ${ledgerAddress}.`,
  })

  // 2. The enclave's EIP-712 signature over exactly these fields.
  let recovered: string | null = null
  try {
    recovered = verifyTypedData(jobReceiptDomain(signed.chainId, signed.computeLedger), typesOf(r), r, signed.signature)
  } catch {
    recovered = null
  }
  const sigOk = recovered !== null && same(recovered, signed.signer)
  checks.push({
    key: 'signature',
    ok: sigOk,
    label: 'Signed by the enclave',
    detail:
      recovered === null
        ? 'The signature is malformed: no signer can be recovered from it.'
        : sigOk
          ? `The EIP-712 signature over these fields recovers to ${getAddress(recovered)}.`
          : `The signature recovers to ${getAddress(recovered)}, not to the named signer ${getAddress(signed.signer)}: the receipt was changed after it was signed.`,
  })

  // 3 and 4. The signer is a registered enclave whose measurement is the receipt's, and it is approved.
  const ledger = new Contract(ledgerAddress, computeLedgerAbi, chain.provider)
  const registry = new Contract(String(await ledger.registry()), enclaveRegistryAbi, chain.provider)
  const [registeredMeasurement] = (await registry.enclaveStatus(signed.signer)) as [string, boolean]
  const approved = (await registry.isMeasurementApproved(r.measurement)) as boolean
  const regOk = registeredMeasurement !== ZERO32 && same(registeredMeasurement, r.measurement)
  checks.push({
    key: 'registered',
    ok: regOk,
    label: 'Registered enclave',
    detail:
      registeredMeasurement === ZERO32
        ? `${getAddress(signed.signer)} is not an enclave registered in EnclaveRegistry.`
        : regOk
          ? `${getAddress(signed.signer)} is registered in EnclaveRegistry with measurement ${r.measurement}.`
          : `${getAddress(signed.signer)} is registered with measurement ${registeredMeasurement}, but the receipt claims ${r.measurement}.`,
  })
  checks.push({
    key: 'approved',
    ok: approved,
    label: 'Approved measurement',
    detail: approved
      ? `Measurement ${short(r.measurement)} is approved by the supervisors.`
      : `Measurement ${r.measurement} is not approved in EnclaveRegistry (never approved, or retired).`,
  })

  // 5. ComputeLedger recorded this job, and the receipt it recorded has the same EIP-712 hash.
  const digest = receiptDigest(signed)
  const log = await recordedLog(chain, r.jobId)
  let record: Verdict['record']
  let recordDetail: string
  let recordOk = false
  if (!log) recordDetail = `ComputeLedger has no record of job ${r.jobId}.`
  else {
    const onChain = await receiptFromTransaction(chain, log.transactionHash)
    const chainDigest = onChain ? receiptDigest(onChain.signed) : null
    record = { txHash: log.transactionHash, blockNumber: log.blockNumber }
    if (chainDigest && same(chainDigest, digest)) {
      recordOk = true
      recordDetail = `ComputeLedger recorded this exact receipt (hash ${short(digest)}) in transaction ${log.transactionHash}, block ${log.blockNumber}.`
    } else {
      const recorded = onChain?.signed.receipt as Record<string, unknown> | undefined
      const mine = r as unknown as Record<string, unknown>
      const differ = recorded
        ? Object.keys(mine).filter(
            (k) => JSON.stringify(recorded[k]).toLowerCase() !== JSON.stringify(mine[k]).toLowerCase(),
          )
        : []
      recordDetail = differ.length
        ? `ComputeLedger recorded job ${short(r.jobId)} with a different ${differ.join(', ')} (transaction ${log.transactionHash}).`
        : `ComputeLedger recorded job ${short(r.jobId)} with a different receipt hash (transaction ${log.transactionHash}).`
    }
  }
  checks.push({ key: 'recorded', ok: recordOk, label: 'Recorded on chain', detail: recordDetail })

  const failed = checks.find((c) => !c.ok)
  const summary = failed
    ? `This receipt does not verify: ${failed.detail}`
    : `This result was computed by an approved enclave: the receipt is signed by enclave ${getAddress(signed.signer)}, registered with approved measurement ${short(r.measurement)}, and ComputeLedger recorded this exact receipt for job ${short(r.jobId)} in block ${record!.blockNumber}.`
  return { ok: !failed, summary, checks, signed, record }
}
