// The independent checker (R24, issue 8): given only a chain's JSON-RPC and a ledger export, it
// recomputes the Merkle root, compares every line with the chain's own logs, verifies every job
// receipt's enclave signature and measurement, checks anchored roots, reconciles DataMarket's
// balances to the wei, and holds the roles to R21–R22 across all the deployment's contracts (no account
// ever both relayer and supervisor, on one contract or on two). It reports who approved and retired
// each enclave measurement and who holds which role. It trusts neither the worker nor D1. Exit 0 =
// consistent, 1 = the first discrepancy (named), 2 = usage or connection error.
//
//   npm run audit -- --rpc http://127.0.0.1:8545 --api http://127.0.0.1:8787/api
//   npm run audit -- --rpc http://127.0.0.1:8545 --export ledger.ndjson [--address-book .data/deployments/31337.json]
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { Interface, TypedDataEncoder, recoverAddress } from 'ethers'
import { groupReceiptTypes, jobReceiptDomain, jobReceiptTypes, ROLES } from '../contracts/index'
import { contractInterface, decodeLogWithEthers, type RpcLog } from '../worker/src/indexer/decode'
import { MerkleAccumulator, ledgerLine, parseLedgerLine, type LedgerEvent } from '../worker/src/indexer/ledger'

export interface AuditOptions {
  rpc: string
  /** The export's text: event lines, then the summary line. */
  exportText: string
  /** Pin the contract addresses (otherwise the export's own addresses are checked for completeness). */
  contracts?: Record<string, string>
}

/** One approval or retirement of an enclave measurement in EnclaveRegistry. */
export interface MeasurementChange {
  action: 'approved' | 'retired'
  /**
   * 'deployment' when EnclaveRegistry's constructor approved it (its event names the deploying account,
   * which acts as no supervisor); otherwise the supervisor's account.
   */
  by: 'deployment' | string
  blockNumber: number
  txHash: string
}

/** One role and the contracts on which an account holds it, at the end of the export. */
export interface RoleHolding {
  account: string
  /** RELAYER_ROLE, SUPERVISOR_ROLE, DEFAULT_ADMIN_ROLE, LEDGER_ROLE, or the role's hash. */
  role: string
  contracts: string[]
}

export type AuditResult =
  | {
      ok: true
      events: number
      receipts: number
      accounts: number
      anchors: number
      merkleRoot: string
      toBlock: number
      /** Every measurement EnclaveRegistry approved, with its approvals and retirements in ledger order. */
      measurements: Array<{ measurement: string; changes: MeasurementChange[] }>
      roles: RoleHolding[]
    }
  | { ok: false; discrepancy: string }

class Discrepancy extends Error {}
const fail = (message: string): never => {
  throw new Discrepancy(message)
}

async function rpc(url: string, calls: Array<[string, unknown[]]>): Promise<unknown[]> {
  const out: unknown[] = []
  for (let i = 0; i < calls.length; i += 200) {
    const chunk = calls.slice(i, i + 200)
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chunk.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }))),
    })
    if (!res.ok) throw new Error(`RPC answered HTTP ${res.status}`)
    const body = (await res.json()) as Array<{ id: number; result?: unknown; error?: { message: string } }>
    const byId = new Map(body.map((r) => [r.id, r]))
    chunk.forEach(([method], id) => {
      const r = byId.get(id)
      if (!r || r.error) throw new Error(`${method} failed: ${r?.error?.message ?? 'no answer'}`)
      out.push(r.result)
    })
  }
  return out
}

const hex = (n: number) => `0x${n.toString(16)}`
const NATIVE = '0x0000000000000000000000000000000000000000'
const ROLE_NAMES = new Map<string, string>([
  [ROLES.admin, 'DEFAULT_ADMIN_ROLE'],
  [ROLES.relayer, 'RELAYER_ROLE'],
  [ROLES.supervisor, 'SUPERVISOR_ROLE'],
  [ROLES.ledger, 'LEDGER_ROLE'],
])
const roleName = (role: string) => ROLE_NAMES.get(role) ?? role
const listed = (names: Iterable<string>) => [...names].join(', ')

/** Checks an export against a chain; returns the first discrepancy rather than throwing it. */
export async function auditLedger(opts: AuditOptions): Promise<AuditResult> {
  try {
    return await audit(opts)
  } catch (err) {
    if (err instanceof Discrepancy) return { ok: false, discrepancy: err.message }
    throw err
  }
}

async function audit(opts: AuditOptions): Promise<AuditResult> {
  const lines = opts.exportText.split('\n').filter((l) => l.length > 0)
  if (!lines.length) fail('the export is empty (no summary line)')
  const summary = JSON.parse(lines.pop()!) as {
    chainId: number
    toBlock: number
    leafCount: number
    merkleRoot: string
    tree: string
  }
  if (summary.tree !== 'RFC6962-SHA256') fail(`unknown tree rule ${JSON.stringify(summary.tree)}`)

  // 1. The root: the lines as given must hash to the root the export states.
  const m = new MerkleAccumulator()
  const prefixRoots = new Map<number, string>()
  for (const line of lines) {
    m.push(line)
    prefixRoots.set(m.count, m.root())
  }
  if (m.count !== summary.leafCount)
    fail(`the export has ${m.count} event lines but its summary says ${summary.leafCount}`)
  // A wrong root is reported after step 2 has looked for the line that makes it wrong, so the report
  // names that line (a forged summary root over untouched lines names none).
  const rootMismatch =
    m.root() !== summary.merkleRoot
      ? `Merkle root mismatch: the summary says ${summary.merkleRoot}, the lines hash to ${m.root()}`
      : null
  try {
    await compareWithChain(opts, summary, lines)
  } catch (err) {
    if (rootMismatch && err instanceof Discrepancy) fail(`${rootMismatch}; ${err.message}`)
    throw err
  }
  if (rootMismatch) fail(rootMismatch)
  const events = lines.map(parseLedgerLine)
  const contracts = contractsOf(opts, events)

  // 3. Receipts, anchors and payments, replaying the ledger in order.
  const enclaves = new Map<string, { measurement: string; active: boolean }>()
  const approved = new Set<string>()
  const measurements = new Map<string, MeasurementChange[]>()
  // Approvals made in EnclaveRegistry's constructor: their transaction created the registry.
  const deployedIn = await creationTransactions(
    opts.rpc,
    events.filter((e) => e.contract === 'EnclaveRegistry' && e.name === 'MeasurementApproved'),
  )
  const roles = new RoleBook()
  const pending = new Map<string, bigint>() // `${currency}|${account}`
  const credit = (currency: string, account: string, amount: bigint) => {
    const k = `${currency}|${account}`
    pending.set(k, (pending.get(k) ?? 0n) + amount)
  }
  let treasury = ''
  let feeBps = 0n
  let receipts = 0
  let anchors = 0
  // The parts of a job across assets (R67), by job id: JobPartRecorded lines precede their GroupJobRecorded.
  const groupParts = new Map<
    string,
    Array<{ licenceId: string; part: string; contentHash: string; epsilonSpentMilli: string; txHash: string }>
  >()
  /** The recovered signer of a receipt must be a registered enclave running an approved measurement. */
  const checkEnclave = (at: string, jobId: string, signer: string, claimed: string, measurement: string) => {
    if (signer !== claimed)
      fail(`${at}: the receipt signature recovers to ${signer}, not the recorded enclave ${claimed}`)
    const reg = enclaves.get(signer)
    if (!reg) fail(`${at}: enclave ${signer} was not registered when job ${jobId} was recorded`)
    if (reg!.measurement !== measurement)
      fail(`${at}: enclave ${signer} runs ${reg!.measurement}, the receipt claims ${measurement}`)
    if (!approved.has(measurement))
      fail(`${at}: measurement ${measurement} was not approved when job ${jobId} was recorded`)
  }
  const signatureOf = (at: string, e: LedgerEvent) => {
    const sig = e.detail ? (JSON.parse(e.detail) as { enclaveSignature?: string }).enclaveSignature : undefined
    return sig ?? fail(`${at}: no enclave signature to verify`)
  }
  /** A measurement change, made by a supervisor of EnclaveRegistry (or by its constructor). */
  const measurementChanged = (
    at: string,
    e: LedgerEvent,
    a: Record<string, string>,
    action: 'approved' | 'retired',
  ) => {
    const deployment = action === 'approved' && deployedIn.has(e.txHash)
    if (!deployment && !roles.holds(a.supervisor, ROLES.supervisor, e.contract))
      fail(
        `${at}: measurement ${a.measurement} was ${action} by ${a.supervisor}, which held no SUPERVISOR_ROLE on ${e.contract}`,
      )
    const changes = measurements.get(a.measurement) ?? []
    changes.push({ action, by: deployment ? 'deployment' : a.supervisor, blockNumber: e.blockNumber, txHash: e.txHash })
    measurements.set(a.measurement, changes)
  }
  for (const [i, e] of events.entries()) {
    const a = JSON.parse(e.args) as Record<string, string>
    const at = `line ${i + 1} (${e.contract}.${e.name}, tx ${e.txHash})`
    if (e.name === 'RoleGranted') roles.grant(at, e, a.role, a.account)
    if (e.name === 'RoleRevoked') roles.revoke(e, a.role, a.account)
    switch (`${e.contract}.${e.name}`) {
      case 'EnclaveRegistry.MeasurementApproved':
        measurementChanged(at, e, a, 'approved')
        approved.add(a.measurement)
        break
      case 'EnclaveRegistry.MeasurementRetired':
        measurementChanged(at, e, a, 'retired')
        approved.delete(a.measurement)
        break
      case 'EnclaveRegistry.EnclaveRegistered':
        enclaves.set(a.signer, { measurement: a.measurement, active: true })
        break
      case 'EnclaveRegistry.EnclaveDeregistered':
        enclaves.delete(a.signer)
        break
      case 'ComputeLedger.JobRecorded': {
        receipts++
        const sig = signatureOf(at, e)
        const digest = TypedDataEncoder.hash(jobReceiptDomain(summary.chainId, e.address), jobReceiptTypes, {
          jobId: a.jobId,
          licenceId: a.licenceId,
          contentHash: a.contentHash,
          queryHash: a.queryHash,
          resultHash: a.resultHash,
          epsilonSpentMilli: a.epsilonSpentMilli,
          measurement: a.measurement,
        })
        checkEnclave(at, a.jobId, recoverAddress(digest, sig).toLowerCase(), a.enclave, a.measurement)
        break
      }
      case 'ComputeLedger.JobPartRecorded': {
        const parts = groupParts.get(a.jobId) ?? []
        parts.push({
          ...(a as { licenceId: string; part: string; contentHash: string; epsilonSpentMilli: string }),
          txHash: e.txHash,
        })
        groupParts.set(a.jobId, parts)
        break
      }
      case 'ComputeLedger.GroupJobRecorded': {
        // One enclave signature covers every part (R67): rebuild the GroupReceipt from the part lines of
        // the same transaction, in part order, and check the signature over all of them at once.
        receipts++
        const sig = signatureOf(at, e)
        const parts = (groupParts.get(a.jobId) ?? []).filter((p) => p.txHash === e.txHash)
        groupParts.delete(a.jobId)
        if (parts.length !== Number(a.partCount))
          fail(`${at}: group job ${a.jobId} claims ${a.partCount} parts, the ledger records ${parts.length}`)
        parts.forEach((p, k) => {
          if (Number(p.part) !== k) fail(`${at}: part ${k} of group job ${a.jobId} is recorded as part ${p.part}`)
        })
        const digest = TypedDataEncoder.hash(jobReceiptDomain(summary.chainId, e.address), groupReceiptTypes, {
          jobId: a.jobId,
          queryHash: a.queryHash,
          resultHash: a.resultHash,
          measurement: a.measurement,
          parts: parts.map((p) => ({
            licenceId: p.licenceId,
            contentHash: p.contentHash,
            epsilonSpentMilli: p.epsilonSpentMilli,
          })),
        })
        checkEnclave(at, a.jobId, recoverAddress(digest, sig).toLowerCase(), a.enclave, a.measurement)
        break
      }
      case 'DataMarket.TreasurySet':
        treasury = a.newTreasury
        break
      case 'DataMarket.PlatformFeeSet':
        feeBps = BigInt(a.newFeeBps)
        break
      case 'DataMarket.LicencePurchased': {
        const price = BigInt(a.price)
        const fee = BigInt(a.fee)
        if (fee !== (price * feeBps) / 10_000n) fail(`${at}: fee ${fee} is not ${feeBps} bps of ${price}`)
        credit(a.currency, treasury, fee)
        credit(a.currency, a.owner, price - fee)
        break
      }
      case 'DataMarket.PaymentWithdrawn':
        credit(a.currency, a.account, -BigInt(a.amount))
        if ((pending.get(`${a.currency}|${a.account}`) ?? 0n) !== 0n)
          fail(`${at}: ${a.account} withdrew ${a.amount} but the ledger credited a different balance`)
        break
      case 'LedgerAnchor.RootAnchored': {
        anchors++
        const leafCount = Number(a.leafCount)
        const covered = events.filter((x) => x.blockNumber <= Number(a.toBlock)).length
        if (covered !== leafCount)
          fail(
            `${at}: anchor ${a.anchorId} covers ${leafCount} events up to block ${a.toBlock}, the export has ${covered}`,
          )
        const root = leafCount === 0 ? new MerkleAccumulator().root() : prefixRoots.get(leafCount)
        if (root !== a.merkleRoot)
          fail(
            `${at}: anchor ${a.anchorId} holds root ${a.merkleRoot}, the export's first ${leafCount} lines hash to ${root}`,
          )
        break
      }
    }
  }

  // 4. Balances: what the ledger says each account may withdraw is what DataMarket holds for it.
  const market = contractInterface('DataMarket')
  const marketAddress = contracts.DataMarket
  const keys = [...pending.keys()].sort()
  if (marketAddress && keys.length) {
    const tag = hex(summary.toBlock)
    const results = (await rpc(opts.rpc, [
      ...keys.map((k) => {
        const [currency, account] = k.split('|')
        return [
          'eth_call',
          [{ to: marketAddress, data: market.encodeFunctionData('pendingWithdrawal', [account, currency]) }, tag],
        ] as [string, unknown[]]
      }),
      ['eth_getBalance', [marketAddress, tag]],
    ])) as string[]
    let nativeHeld = 0n
    keys.forEach((k, i) => {
      const chain = BigInt(market.decodeFunctionResult('pendingWithdrawal', results[i])[0] as bigint)
      const [currency, account] = k.split('|')
      if (chain !== pending.get(k))
        fail(
          `balance of ${account} in ${currency}: the ledger gives ${pending.get(k)}, DataMarket holds ${chain} at block ${summary.toBlock}`,
        )
      if (currency === NATIVE) nativeHeld += chain
    })
    const balance = BigInt(results[keys.length])
    if (balance !== nativeHeld)
      fail(`DataMarket holds ${balance} wei at block ${summary.toBlock} but owes ${nativeHeld}`)
  }

  // 5. Roles: what the ledger's grants and revocations leave is what the contracts' hasRole answers.
  await roles.compareWithChain(opts.rpc, summary.toBlock)
  return {
    ok: true,
    events: events.length,
    receipts,
    accounts: keys.length,
    anchors,
    merkleRoot: summary.merkleRoot,
    toBlock: summary.toBlock,
    measurements: [...measurements].map(([measurement, changes]) => ({ measurement, changes })),
    roles: roles.holdings(),
  }
}

/**
 * The roles of every contract of the deployment, replayed from RoleGranted and RoleRevoked. Each contract
 * refuses to give one account both RELAYER_ROLE and SUPERVISOR_ROLE, but only within itself, while R21–R22
 * are about the deployment: a grant that makes an account relayer on one contract while it is supervisor
 * on another is a discrepancy here, even if it was revoked later, because for that time one account both
 * kept the books and supervised them.
 */
class RoleBook {
  /** `${account}|${role}` → the contracts (by address-book name) on which the account holds the role. */
  private readonly held = new Map<string, Set<string>>()
  /** Contract name → address, for every contract that logged a role change. */
  private readonly addresses = new Map<string, string>()

  holds(account: string, role: string, contract: string): boolean {
    return this.on(account, role).has(contract)
  }

  grant(at: string, e: LedgerEvent, role: string, account: string): void {
    this.addresses.set(e.contract, e.address)
    this.held.set(`${account}|${role}`, this.on(account, role).add(e.contract))
    const other = role === ROLES.relayer ? ROLES.supervisor : role === ROLES.supervisor ? ROLES.relayer : null
    const clash = other ? this.on(account, other) : new Set<string>()
    if (clash.size)
      fail(
        `${at}: account ${account} was granted ${roleName(role)} on ${e.contract} while it holds ${roleName(other!)} on ${listed(clash)}: ` +
          'the relayer and the supervisor must never be one account on any of the deployment’s contracts (R21–R22)',
      )
  }

  revoke(e: LedgerEvent, role: string, account: string): void {
    this.addresses.set(e.contract, e.address)
    this.on(account, role).delete(e.contract)
  }

  /** Every role held, by account then role, with its contracts in the order they were granted it. */
  holdings(): RoleHolding[] {
    return [...this.held]
      .filter(([, contracts]) => contracts.size > 0)
      .map(([key, contracts]) => {
        const [account, role] = key.split('|')
        return { account, role: roleName(role), contracts: [...contracts] }
      })
      .sort((x, y) => x.account.localeCompare(y.account) || x.role.localeCompare(y.role))
  }

  /**
   * Asks every contract that logged a role change whether each account the ledger names holds
   * RELAYER_ROLE and SUPERVISOR_ROLE at `toBlock`: an export that starts late or leaves out a grant shows here.
   */
  async compareWithChain(url: string, toBlock: number): Promise<void> {
    const iface = contractInterface('EnclaveRegistry')
    const accounts = [...new Set([...this.held.keys()].map((k) => k.split('|')[0]))].sort()
    const asked = [...this.addresses].flatMap(([contract, address]) =>
      accounts.flatMap((account) =>
        [ROLES.relayer, ROLES.supervisor].map((role) => ({ contract, address, account, role })),
      ),
    )
    const answers = (await rpc(
      url,
      asked.map(
        (q) =>
          [
            'eth_call',
            [{ to: q.address, data: iface.encodeFunctionData('hasRole', [q.role, q.account]) }, hex(toBlock)],
          ] as [string, unknown[]],
      ),
    )) as string[]
    asked.forEach((q, i) => {
      const onChain = Boolean(iface.decodeFunctionResult('hasRole', answers[i])[0])
      if (onChain !== this.holds(q.account, q.role, q.contract))
        fail(
          `${q.account} ${onChain ? 'holds' : 'does not hold'} ${roleName(q.role)} on ${q.contract} at block ${toBlock}, ` +
            `but the ledger's role events say it ${onChain ? 'does not' : 'does'}`,
        )
    })
  }

  private on(account: string, role: string): Set<string> {
    return this.held.get(`${account}|${role}`) ?? new Set()
  }
}

/** Those of `events`' transactions that created the contract which logged the event: a constructor's events. */
async function creationTransactions(url: string, events: LedgerEvent[]): Promise<Set<string>> {
  const hashes = [...new Set(events.map((e) => e.txHash))]
  const receipts = (await rpc(
    url,
    hashes.map((h) => ['eth_getTransactionReceipt', [h]] as [string, unknown[]]),
  )) as Array<{ contractAddress: string | null } | null>
  const address = new Map(events.map((e) => [e.txHash, e.address.toLowerCase()]))
  return new Set(hashes.filter((h, i) => receipts[i]?.contractAddress?.toLowerCase() === address.get(h)))
}

/** The report's lines after the OK line: who approved and retired each measurement, and who holds which role. */
export function describeAudit(result: Extract<AuditResult, { ok: true }>): string[] {
  const by = (c: MeasurementChange) =>
    c.by === 'deployment'
      ? `approved at deployment, by EnclaveRegistry's constructor (block ${c.blockNumber})`
      : `${c.action} by supervisor ${c.by} (block ${c.blockNumber})`
  return [
    ...result.measurements.map((m) => `measurement ${m.measurement}: ${m.changes.map(by).join('; ')}`),
    ...result.roles.map((r) => `${r.account} holds ${r.role} on ${listed(r.contracts)}`),
  ]
}

/** The chain's logs of `names`' contracts in [from, to], as ledger events with block times and receipt signatures. */
async function chainEvents(
  url: string,
  chainId: number,
  names: Map<string, string>,
  from: number,
  to: number,
  ledgerAddress: string | undefined,
): Promise<LedgerEvent[]> {
  const logs: RpcLog[] = []
  for (let start = from; start <= to; start += 5000) {
    const [chunk] = (await rpc(url, [
      [
        'eth_getLogs',
        [{ fromBlock: hex(start), toBlock: hex(Math.min(to, start + 4999)), address: [...names.keys()] }],
      ],
    ])) as RpcLog[][]
    logs.push(...chunk)
  }
  const hashes = [...new Set(logs.map((l) => l.blockHash))]
  const blocks = (await rpc(
    url,
    hashes.map((h) => ['eth_getBlockByHash', [h, false]] as [string, unknown[]]),
  )) as Array<{ timestamp: string }>
  const times = new Map(hashes.map((h, i) => [h, Number(blocks[i].timestamp)]))
  // ethers' own decoder, not the indexer's compiled one: the checker decodes independently.
  const events = logs.map((l) => decodeLogWithEthers(chainId, names, l, times.get(l.blockHash)!))
  const jobs = events.filter(
    (e) => e.contract === 'ComputeLedger' && (e.name === 'JobRecorded' || e.name === 'GroupJobRecorded'),
  )
  if (jobs.length) {
    const ledger: Interface = contractInterface('ComputeLedger')
    const txHashes = [...new Set(jobs.map((e) => e.txHash))]
    const txs = (await rpc(
      url,
      txHashes.map((h) => ['eth_getTransactionByHash', [h]] as [string, unknown[]]),
    )) as Array<{ to: string | null; input: string }>
    const sigs = new Map<string, string>()
    txHashes.forEach((h, i) => {
      if (txs[i].to?.toLowerCase() !== ledgerAddress?.toLowerCase()) return
      const call = ledger.parseTransaction({ data: txs[i].input })
      if (call?.name === 'recordReceipt' || call?.name === 'recordGroupReceipt')
        sigs.set(`${h}|${String(call.args[0].jobId).toLowerCase()}`, String(call.args[1]).toLowerCase())
    })
    for (const e of jobs) {
      const sig = sigs.get(`${e.txHash}|${(JSON.parse(e.args) as { jobId: string }).jobId}`)
      if (sig) e.detail = JSON.stringify({ enclaveSignature: sig })
    }
  }
  return events
}

/** The contracts checked: pinned by an address book, or else the export's own. */
const contractsOf = (opts: AuditOptions, events: LedgerEvent[]): Record<string, string> =>
  opts.contracts ?? Object.fromEntries(events.map((e) => [e.contract, e.address]))

/** 2. Every line is a log on this chain, in canonical form and order, and every log of the contracts is a line. */
async function compareWithChain(
  opts: AuditOptions,
  summary: { chainId: number; toBlock: number },
  lines: string[],
): Promise<void> {
  const [chainIdHex] = (await rpc(opts.rpc, [['eth_chainId', []]])) as string[]
  if (Number(chainIdHex) !== summary.chainId)
    fail(`the export is for chain ${summary.chainId}, the RPC serves ${Number(chainIdHex)}`)
  const events = lines.map(parseLedgerLine)
  events.forEach((e, i) => {
    if (ledgerLine(e) !== lines[i]) fail(`line ${i + 1} is not in canonical form`)
    if (
      i > 0 &&
      (e.blockNumber < events[i - 1].blockNumber ||
        (e.blockNumber === events[i - 1].blockNumber && e.logIndex <= events[i - 1].logIndex))
    )
      fail(`line ${i + 1} is out of (block, log index) order`)
  })
  const contracts = contractsOf(opts, events)
  const names = new Map(Object.entries(contracts).map(([n, a]) => [a.toLowerCase(), n]))
  const fromBlock = events.length ? events[0].blockNumber : 0
  const onChain = await chainEvents(
    opts.rpc,
    summary.chainId,
    names,
    fromBlock,
    summary.toBlock,
    contracts.ComputeLedger,
  )
  for (let i = 0; i < Math.max(events.length, onChain.length); i++) {
    const mine = lines[i]
    const theirs = onChain[i] ? ledgerLine(onChain[i]) : undefined
    if (mine === theirs) continue
    if (!mine)
      fail(
        `the export omits the chain's event at block ${onChain[i].blockNumber} log ${onChain[i].logIndex} (${onChain[i].contract}.${onChain[i].name})`,
      )
    if (!theirs) fail(`line ${i + 1} (block ${events[i].blockNumber} log ${events[i].logIndex}) is not on the chain`)
    const a = JSON.parse(mine) as Record<string, unknown>
    const b = JSON.parse(theirs!) as Record<string, unknown>
    const field = Object.keys(b).find((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])) ?? 'line'
    fail(
      `line ${i + 1} (block ${events[i].blockNumber} log ${events[i].logIndex}, ${events[i].contract}.${events[i].name}) differs from the chain in \`${field}\`: ${JSON.stringify(a[field])} ≠ ${JSON.stringify(b[field])}`,
    )
  }
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run audit -- --rpc <url> (--api <base url> | --export <file>) [--address-book <file>]\n`,
  )
  process.exit(2)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  const opt = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const rpcUrl = opt('rpc') ?? usage('--rpc is required')
  const file = opt('export')
  const api = opt('api') ?? (file ? undefined : 'http://127.0.0.1:8787/api')
  const bookFile = opt('address-book')
  try {
    const exportText = file
      ? readFileSync(file, 'utf8')
      : await fetch(`${api!.replace(/\/+$/, '')}/audit/export`).then(async (r) => {
          if (!r.ok) throw new Error(`GET ${api}/audit/export answered ${r.status}: ${await r.text()}`)
          return r.text()
        })
    const contracts = bookFile
      ? (JSON.parse(readFileSync(bookFile, 'utf8')) as { contracts: Record<string, string> }).contracts
      : undefined
    const result = await auditLedger({ rpc: rpcUrl, exportText, contracts })
    if (!result.ok) {
      process.stdout.write(`DISCREPANCY: ${result.discrepancy}\n`)
      process.exit(1)
    }
    process.stdout.write(
      `OK: ${result.events} events up to block ${result.toBlock} match the chain; root ${result.merkleRoot}; ` +
        `${result.receipts} receipts verified; ${result.anchors} anchors match; ${result.accounts} balances reconcile to the wei\n`,
    )
    for (const line of describeAudit(result)) process.stdout.write(`  ${line}\n`)
  } catch (err) {
    process.stderr.write(`audit could not run: ${(err as Error).message}\n`)
    process.exit(2)
  }
}
