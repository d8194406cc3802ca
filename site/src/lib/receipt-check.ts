// Checks a job receipt — of one asset, or a group receipt of a job across assets (R67) — in the browser
// against the chain itself (R23, R24): the enclave's EIP-712 signature, the signer's registration and
// measurement in EnclaveRegistry as they were when the job was recorded, and the record ComputeLedger
// keeps. Only the address book and a read-only RPC door (/api/rpc) come from this marketplace; every
// fact is read from the chain or recomputed here, so a tampered receipt or a lying index cannot pass.
import {
  Contract,
  getAddress,
  Interface,
  JsonRpcProvider,
  TypedDataEncoder,
  verifyTypedData,
  zeroPadValue,
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
  /**
   * What changed on chain since the receipt was recorded (its enclave build retired, its key
   * deregistered), one sentence each: information about today, never a reason to fail the receipt.
   */
  notes: string[]
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

  // 5 (read first: checks 3 and 4 are made as of its block). ComputeLedger recorded this job, and the
  // receipt it recorded has the same EIP-712 hash.
  const digest = receiptDigest(signed)
  const log = await recordedLog(chain, r.jobId)
  let record: Verdict['record']
  let recordDetail: string
  let recordOk = false
  let changed: string[] = []
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
      const differ = recorded ? Object.keys(mine).filter((k) => !sameValue(recorded[k], mine[k])) : []
      changed = recorded ? changedFields(mine, recorded) : []
      recordDetail = differ.length
        ? `ComputeLedger recorded job ${short(r.jobId)} with a different ${differ.join(', ')} (transaction ${log.transactionHash}).`
        : `ComputeLedger recorded job ${short(r.jobId)} with a different receipt hash (transaction ${log.transactionHash}).`
    }
  }

  // 3 and 4. The signer was a registered enclave whose measurement is the receipt's, and that measurement
  // was approved, when ComputeLedger recorded the job: what it checked before recording. A build retired
  // or a key deregistered later does not undo a receipt recorded before; it is reported as a note.
  const ledger = new Contract(ledgerAddress, computeLedgerAbi, chain.provider)
  const registry = new Contract(String(await ledger.registry()), enclaveRegistryAbi, chain.provider)
  const block = log?.blockNumber
  const [now, atRecord] = await Promise.all([
    enclaveStateAt(registry, signed.signer, r.measurement, 'latest'),
    block === undefined ? null : enclaveStateAt(registry, signed.signer, r.measurement, block),
  ])
  let then = atRecord ?? now
  // A node answers for the end of a block; ComputeLedger checked in the middle of it. When a retirement
  // or deregistration shares the recording's block, the state before that block is the one it checked.
  const fits = (s: EnclaveState) => registeredAs(s, r.measurement) && s.approved
  if (block !== undefined && recordOk && sigOk && !fits(then) && block > 0) {
    const before = await enclaveStateAt(registry, signed.signer, r.measurement, block - 1)
    if (fits(before)) then = before
  }
  const regOk = registeredAs(then, r.measurement)
  const when = block === undefined ? '' : ` when the job was recorded (block ${block})`
  const signer = getAddress(signed.signer)
  checks.push({
    key: 'registered',
    ok: regOk,
    label: 'Registered enclave',
    detail:
      then.registered === ZERO32
        ? block === undefined
          ? `${signer} is not an enclave registered in EnclaveRegistry.`
          : `${signer} was not an enclave registered in EnclaveRegistry${when}.`
        : regOk
          ? `${signer} ${block === undefined ? 'is' : 'was'} registered in EnclaveRegistry with measurement ${r.measurement}${when}.`
          : `${signer} ${block === undefined ? 'is' : 'was'} registered with measurement ${then.registered}${when}, but the receipt claims ${r.measurement}.`,
  })
  checks.push({
    key: 'approved',
    ok: then.approved,
    label: 'Approved measurement',
    detail:
      block === undefined
        ? then.approved
          ? `Measurement ${short(r.measurement)} is approved in EnclaveRegistry.`
          : `Measurement ${r.measurement} is not approved in EnclaveRegistry (never approved, or retired).`
        : then.approved
          ? `Measurement ${short(r.measurement)} was approved in EnclaveRegistry${when}.`
          : `Measurement ${r.measurement} was not approved in EnclaveRegistry${when}.`,
  })
  checks.push({ key: 'recorded', ok: recordOk, label: 'Recorded on chain', detail: recordDetail })

  const failed = checks.find((c) => !c.ok)
  const notes = failed || block === undefined ? [] : await sinceRecorded(chain, registry, signed, block, now)
  return {
    ok: !failed,
    summary: failed
      ? `This receipt does not verify: ${reasonOf(failed, changed, sigOk, r.jobId)}`
      : `This result was computed by an approved enclave: the receipt is signed by enclave ${signer}, which was registered with measurement ${short(r.measurement)}, approved when ComputeLedger recorded this exact receipt for job ${short(r.jobId)} in block ${block}.`,
    notes,
    checks,
    signed,
    record,
  }
}

/** What EnclaveRegistry says of a receipt's signer and measurement at one block. */
interface EnclaveState {
  /** The measurement the signer is registered with (zero when it is not registered). */
  registered: string
  /** Whether the receipt's measurement is approved. */
  approved: boolean
}

async function enclaveStateAt(
  registry: Contract,
  signer: string,
  measurement: string,
  blockTag: number | 'latest',
): Promise<EnclaveState> {
  const [status, approved] = await Promise.all([
    registry.enclaveStatus(signer, { blockTag }) as Promise<[string, boolean]>,
    registry.isMeasurementApproved(measurement, { blockTag }) as Promise<boolean>,
  ])
  return { registered: String(status[0]), approved: Boolean(approved) }
}

const registeredAs = (s: EnclaveState, measurement: string) =>
  s.registered !== ZERO32 && same(s.registered, measurement)

/**
 * What changed since block `block` for a receipt that verifies: its build retired, its key deregistered or
 * registered with another build. Each is information about today, in a sentence, with the block it
 * happened in when EnclaveRegistry's log says so; none makes the receipt any less genuine.
 */
async function sinceRecorded(
  chain: ChainReader,
  registry: Contract,
  signed: AnySignedReceipt,
  block: number,
  now: EnclaveState,
): Promise<string[]> {
  const notes: string[] = []
  const measurement = signed.receipt.measurement
  const signer = getAddress(signed.signer)
  /** The block of the latest `event` about `topic` since `block`, as " (block N)", or '' when none is found. */
  const lastBlock = async (event: 'MeasurementRetired' | 'EnclaveDeregistered', topic: string) => {
    const logs = await chain.provider.getLogs({
      address: await registry.getAddress(),
      topics: [registry.interface.getEvent(event)!.topicHash, zeroPadValue(topic, 32)],
      // From the recording's own block: a retirement or deregistration there came after the recording,
      // which ComputeLedger would have refused otherwise.
      fromBlock: block,
      toBlock: 'latest',
    })
    const last = logs[logs.length - 1]
    return last ? ` (block ${last.blockNumber})` : ''
  }
  if (!now.approved)
    notes.push(
      `Since then, measurement ${short(measurement)} was retired${await lastBlock('MeasurementRetired', measurement)}: new jobs no longer run on that build, but it was approved when this job was recorded, so this receipt stands.`,
    )
  if (now.registered === ZERO32)
    notes.push(
      `Since then, enclave ${signer} was deregistered${await lastBlock('EnclaveDeregistered', signer)}: it can record no new receipts, but it was registered when this job was recorded, so this receipt stands.`,
    )
  else if (!same(now.registered, measurement))
    notes.push(
      `Since then, enclave ${signer} was registered again with measurement ${short(now.registered)}; it ran ${short(measurement)} when this job was recorded.`,
    )
  return notes
}

const sameValue = (a: unknown, b: unknown) =>
  String(JSON.stringify(a)).toLowerCase() === String(JSON.stringify(b)).toLowerCase()

/** A receipt field in the words a reader knows. */
const FIELD_WORDS: Record<string, string> = {
  jobId: 'job id',
  licenceId: 'licence',
  contentHash: 'dataset content hash',
  queryHash: 'query hash',
  resultHash: 'result hash',
  epsilonSpentMilli: 'ε spent',
  measurement: 'enclave measurement',
}

/** Where `mine` differs from what ComputeLedger `recorded`, in words: "result hash", "ε spent of part 2". */
function changedFields(mine: Record<string, unknown>, recorded: Record<string, unknown>): string[] {
  const out: string[] = []
  for (const k of Object.keys(mine)) {
    if (sameValue(mine[k], recorded[k])) continue
    if (k !== 'parts') {
      out.push(FIELD_WORDS[k] ?? k)
      continue
    }
    const a = (Array.isArray(mine.parts) ? mine.parts : []) as Array<Record<string, unknown>>
    const b = (Array.isArray(recorded.parts) ? recorded.parts : []) as Array<Record<string, unknown>>
    if (a.length !== b.length) out.push('number of parts')
    else
      a.forEach((part, i) => {
        for (const f of Object.keys(part))
          if (!sameValue(part[f], b[i][f])) out.push(`${FIELD_WORDS[f] ?? f} of part ${i + 1}`)
      })
  }
  return out
}

/**
 * The summary's reason: the first failing check, except that a receipt which differs from the one
 * ComputeLedger recorded names the changed fields. Those are the cause; the broken signature is only
 * their consequence, and "the signature recovers to 0x…" tells a reader nothing about what changed.
 */
function reasonOf(failed: Check, changed: string[], sigOk: boolean, jobId: string): string {
  if (failed.key === 'chain' || !changed.length) return failed.detail
  const fields = changed.map((f) => `the ${f}`)
  const list = fields.length === 1 ? fields[0] : `${fields.slice(0, -1).join(', ')} and ${fields[fields.length - 1]}`
  const mismatch = `${list[0].toUpperCase()}${list.slice(1)} ${
    fields.length === 1 ? 'does not match the one' : 'do not match the ones'
  } recorded on chain for job ${short(jobId)}`
  return sigOk
    ? `${mismatch}, so this is not the receipt ComputeLedger recorded.`
    : `${mismatch}, so the receipt was changed after the enclave signed it.`
}
