// A job across assets of two owners end to end against the processes `npm start` runs (issue 6 R67; the
// enclave PSI mode of issue 9): two owners publish customer lists whose policies allow joins, one buyer
// buys a licence on each, runs one signed DP COUNT(*) over their equi-join on the identifier, and decrypts
// it; one group receipt is on chain and each licence's quota and ε went down by exactly its part. Then the
// refusals at submission, each charging nothing: a part under someone else's licence (403) and a join one
// owner's policy forbids (422, the enclave's own reason).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, Interface, JsonRpcProvider, NonceManager, parseEther } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeLedgerAbi, dataMarketAbi, NATIVE_CURRENCY } from '../../contracts/index'
import {
  ApiClient,
  ApiRequestError,
  createMultiJobRequest,
  generateResultKey,
  publish,
  runComputeJob,
  signMultiJobRequest,
  type JobPartInput,
  type JobView,
  type MarketRef,
} from '../../sdk/src/index'
import { fileSource, nodeHasher } from '../../sdk/src/node/index'
import type { PrivacyPolicy } from '../../tee-sim/src/policy'
import { multiJobIdOf } from '../../tee-sim/src/job-request'
import { devWallet, freePorts, startStack, type Stack } from '../../scripts/stack'
import { cliRunner } from '../support/cli'
import { checkReceipt, checkShape, connect, openReceipt } from '../../site/src/lib/receipt-check'

const OWNER_A = 13
const OWNER_B = 14
const BUYER = 15
const STRANGER = 16
const PRICE = parseEther('0.01')

/** Customer ids c{from}..c{to-1}: the identifier both owners hold, plus a segment and a spend column. */
function customers(from: number, to: number): string {
  const lines = ['id,segment,spend']
  for (let i = from; i < to; i++) lines.push(`c${i},${i % 2 ? 'retail' : 'pro'},${i % 40}`)
  return lines.join('\n') + '\n'
}
const JOINABLE: PrivacyPolicy = { mode: 'dp', allowJoin: true, columns: { id: { identifier: true } } }
const PSI = 'SELECT COUNT(*) AS shared FROM a JOIN b ON a.id = b.id'

describe('a job across assets of two owners (R67)', () => {
  let stack: Stack
  let dataDir: string
  let provider: JsonRpcProvider
  let api: ApiClient
  let market: Contract
  let ledger: Contract
  let marketRef: MarketRef
  const assets: Record<'a' | 'b' | 'closed', { tokenId: string; contentHash: string }> = {} as never
  const licences: Record<'a' | 'b' | 'closed' | 'strangers', string> = {} as never

  async function publishAs(index: number, name: string, csv: string, policy: PrivacyPolicy) {
    const file = join(dataDir, `${name}.csv`)
    writeFileSync(file, csv)
    const owner = signerOf(index)
    const out = await publish({
      api,
      signer: owner,
      source: fileSource(file),
      format: 'csv',
      declaration: {
        name,
        tags: ['e2e'],
        policy,
        lawfulBasis: { basis: 'owned', statement: 'Synthetic test customers.', personalData: false },
      },
      enclave: { rpcUrl: stack.urls.chain },
      createHasher: nodeHasher,
    })
    const terms = {
      price: PRICE,
      currency: NATIVE_CURRENCY,
      duration: 86_400,
      maxJobs: 3,
      epsilonBudgetMilli: 5_000,
      purposes: 0xffffffff,
    }
    await (await (market.connect(owner) as Contract).setOffer(out.tokenId, terms)).wait()
    return { tokenId: out.tokenId, contentHash: out.contentHash }
  }

  // One nonce-tracking signer per account: hardhat automines, so back-to-back transactions need it.
  const signers = new Map<number, NonceManager>()
  const signerOf = (index: number) => {
    if (!signers.has(index)) signers.set(index, new NonceManager(devWallet(index, provider)))
    return signers.get(index)!
  }

  async function buy(wallet: NonceManager, tokenId: string, offerId = 1n): Promise<string> {
    const receipt = await (
      await (market.connect(wallet) as Contract).buyLicence(tokenId, offerId, { value: PRICE })
    ).wait()
    const iface = new Interface(dataMarketAbi)
    for (const log of receipt.logs) {
      const parsed = iface.parseLog(log)
      if (parsed?.name === 'LicencePurchased') return parsed.args.licenceId.toString()
    }
    throw new Error('no LicencePurchased event')
  }

  async function licenceState(id: string) {
    const l = await market.licence(id)
    return { jobsLeft: Number(l.jobsLeft), epsilonLeftMilli: Number(l.epsilonLeftMilli) }
  }

  /** Submits a signed multi-asset request by hand and returns the refusal. */
  async function refusal(parts: JobPartInput[], query: string) {
    const request = createMultiJobRequest({ parts, query, resultPublicKey: generateResultKey().publicKey })
    const signature = await signMultiJobRequest(devWallet(BUYER, provider), request, marketRef)
    const jobId = multiJobIdOf(request, marketRef.chainId, marketRef.dataMarket)
    const err = await api.request('/jobs', { method: 'POST', json: { request, signature, query } }).then(
      () => undefined,
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(ApiRequestError)
    // Nothing was stored: the job id the request would have had is unknown.
    const lookup = await api.request(`/jobs/${jobId}`).catch((e: ApiRequestError) => e)
    expect(lookup).toMatchObject({ status: 404, code: 'job_not_found' })
    return err as ApiRequestError
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-multi-'))
    stack = await startStack({ root: process.cwd(), dataDir, ports: await freePorts() })
    provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1, cacheTimeout: -1 })
    api = new ApiClient({ apiUrl: stack.urls.api })
    const c = stack.addressBook.contracts
    market = new Contract(c.DataMarket, dataMarketAbi, provider)
    ledger = new Contract(c.ComputeLedger, computeLedgerAbi, provider)
    marketRef = { chainId: 31337, dataMarket: c.DataMarket }

    // A: c0..c1199 at ε 1 per query. B: c800..c1999 at ε 0.5 — 400 customers in common.
    assets.a = await publishAs(OWNER_A, 'crm', customers(0, 1200), JOINABLE)
    assets.b = await publishAs(OWNER_B, 'shop', customers(800, 2000), { ...JOINABLE, epsilonPerQueryMilli: 500 })
    // B's second asset: the default policy, which allows no joins.
    assets.closed = await publishAs(OWNER_B, 'closed', customers(0, 500), {
      mode: 'dp',
      columns: { id: { identifier: true } },
    })
    const buyer = signerOf(BUYER)
    licences.a = await buy(buyer, assets.a.tokenId)
    licences.b = await buy(buyer, assets.b.tokenId)
    licences.closed = await buy(buyer, assets.closed.tokenId)
    licences.strangers = await buy(signerOf(STRANGER), assets.b.tokenId)
  })
  afterAll(async () => {
    provider?.destroy()
    await stack?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('counts the customers both owners share (enclave PSI), charging each licence exactly its part', async () => {
    const before = { a: await licenceState(licences.a), b: await licenceState(licences.b) }
    const outcome = await runComputeJob({
      api,
      signer: devWallet(BUYER, provider),
      market: marketRef,
      computeLedger: stack.addressBook.contracts.ComputeLedger,
      parts: [
        { licenceId: licences.a, contentHash: assets.a.contentHash, table: 'a' },
        { licenceId: licences.b, contentHash: assets.b.contentHash, table: 'b' },
      ],
      query: PSI,
    })
    // The decrypted DP count is near the true intersection (400); the strictest ε (0.5) was used.
    expect(outcome.result.columns).toEqual(['shared'])
    expect(Math.abs((outcome.result.rows[0][0] as number) - 400)).toBeLessThan(40)
    expect(outcome.result.privacy).toMatchObject({ mode: 'dp', epsilonSpentMilli: 500 })

    const receipt = outcome.receipt.receipt
    expect('parts' in receipt && receipt.parts).toEqual([
      { licenceId: licences.a, contentHash: assets.a.contentHash, epsilonSpentMilli: 500 },
      { licenceId: licences.b, contentHash: assets.b.contentHash, epsilonSpentMilli: 500 },
    ])
    const measurement = (await (await fetch(`${stack.urls.enclave}/health`)).json()) as { measurement: string }
    expect(receipt.measurement).toBe(measurement.measurement)
    expect(await ledger.isJobRecorded(outcome.jobId)).toBe(true)
    const tx = await provider.getTransactionReceipt(outcome.txHash!)
    const events = tx!.logs
      .map((l) => ledger.interface.parseLog(l))
      .filter(Boolean)
      .map((e) => e!.name)
    expect(events).toEqual(['JobPartRecorded', 'JobPartRecorded', 'GroupJobRecorded'])
    // An auditor's check (the /verify page's code, here in Node through the site's read-only RPC door):
    // the group receipt verifies from its JSON and from the job id alone; one part altered does not.
    const chain = await connect(new URL(stack.urls.api).origin)
    try {
      const verdict = await checkReceipt(chain, checkShape(JSON.parse(JSON.stringify(outcome.receipt))))
      expect(verdict.ok, verdict.summary).toBe(true)
      expect(verdict.checks.map((c) => c.key)).toEqual(['chain', 'signature', 'registered', 'approved', 'recorded'])
      const found = await openReceipt(chain, outcome.jobId)
      expect(found.signed.receipt).toEqual(outcome.receipt.receipt)
      const parts = (outcome.receipt.receipt as { parts: Array<{ epsilonSpentMilli: number }> }).parts
      const altered = {
        ...outcome.receipt,
        receipt: { ...outcome.receipt.receipt, parts: [parts[0], { ...parts[1], epsilonSpentMilli: 1 }] },
      }
      const refused = await checkReceipt(chain, checkShape(altered))
      expect(refused.ok).toBe(false)
      expect(refused.checks.find((c) => c.key === 'signature')?.ok).toBe(false)
      expect(refused.checks.find((c) => c.key === 'recorded')?.detail).toMatch(/different parts/)
    } finally {
      chain.provider.destroy()
    }
    expect(outcome.job.parts).toMatchObject([
      { licenceId: licences.a, table: 'a', epsilonSpentMilli: 500 },
      { licenceId: licences.b, table: 'b', epsilonSpentMilli: 500 },
    ])
    // Quota and ε went down by exactly the receipt's parts, on both owners' licences.
    expect(await licenceState(licences.a)).toEqual({
      jobsLeft: before.a.jobsLeft - 1,
      epsilonLeftMilli: before.a.epsilonLeftMilli - 500,
    })
    expect(await licenceState(licences.b)).toEqual({
      jobsLeft: before.b.jobsLeft - 1,
      epsilonLeftMilli: before.b.epsilonLeftMilli - 500,
    })
    // The indexer mirrors the group receipt (the relayer nudges it): the job reads as indexed, and each
    // owner's asset history shows the part run on it (R67, issue 8).
    let index: string | undefined
    for (const until = Date.now() + 60_000; Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
      index = (await api.request<JobView>(`/jobs/${outcome.jobId}`)).index
      if (index !== 'pending') break
    }
    expect(index).toBe('indexed')
    for (const [asset, licence, part] of [
      [assets.a, licences.a, '0'],
      [assets.b, licences.b, '1'],
    ] as const) {
      const history = await api.request<{ events: Array<{ kind: string; args: Record<string, string> }> }>(
        `/assets/${asset.tokenId}/history`,
      )
      const mine = history.events.filter((e) => e.args.jobId === outcome.jobId)
      // Its licence charged (DataMarket), its part, the group receipt; not the other owner's part.
      expect(mine.map((e) => e.kind)).toEqual(['licence-consumed', 'job-part', 'group-job'])
      expect(mine[1].args).toMatchObject({ licenceId: licence, part, epsilonSpentMilli: '500' })
    }
    // Only the count left the enclave: no identifier is in what the marketplace holds.
    const stored = await api.request<{ sealedResult: string }>(`/jobs/${outcome.jobId}/result`)
    expect(JSON.stringify(stored)).not.toMatch(/"c\d+"/)
  })

  it('runs the same join from the CLI (`stillflow job A:a B:b "<sql>"`), charging each licence its part', async () => {
    const before = { a: await licenceState(licences.a), b: await licenceState(licences.b) }
    const cli = cliRunner(process.cwd(), () => stack, join(dataDir, 'cli'))
    const res = await cli([
      'job',
      `${assets.a.tokenId}:a`,
      `${assets.b.tokenId}:b`,
      PSI,
      '--dev-account',
      String(BUYER),
      '--json',
    ])
    expect(res.code, res.stderr).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out.columns).toEqual(['shared'])
    expect(Math.abs(out.rows[0][0] - 400)).toBeLessThan(40)
    expect(out.charges).toEqual([
      { licenceId: licences.a, epsilonSpentMilli: 500 },
      { licenceId: licences.b, epsilonSpentMilli: 500 },
    ])
    expect(await licenceState(licences.a)).toEqual({
      jobsLeft: before.a.jobsLeft - 1,
      epsilonLeftMilli: before.a.epsilonLeftMilli - 500,
    })
    expect(await licenceState(licences.b)).toEqual({
      jobsLeft: before.b.jobsLeft - 1,
      epsilonLeftMilli: before.b.epsilonLeftMilli - 500,
    })
    const usage = await cli([
      'job',
      `${assets.a.tokenId}`,
      `${assets.b.tokenId}:b`,
      PSI,
      '--dev-account',
      String(BUYER),
    ])
    expect(usage.code).not.toBe(0)
    expect(usage.stderr).toMatch(/bind each to a table name/)
  })

  it('refuses a part under someone else’s licence → 403, charging nothing', async () => {
    const before = await licenceState(licences.a)
    const err = await refusal(
      [
        { licenceId: licences.a, contentHash: assets.a.contentHash, table: 'a' },
        { licenceId: licences.strangers, contentHash: assets.b.contentHash, table: 'b' },
      ],
      PSI,
    )
    expect(err).toMatchObject({ status: 403, code: 'not_licence_holder' })
    expect(await licenceState(licences.a)).toEqual(before)
  })

  it('refuses a join one owner’s policy forbids → 422 with the enclave’s reason, charging nothing', async () => {
    const before = { a: await licenceState(licences.a), closed: await licenceState(licences.closed) }
    const err = await refusal(
      [
        { licenceId: licences.a, contentHash: assets.a.contentHash, table: 'a' },
        { licenceId: licences.closed, contentHash: assets.closed.contentHash, table: 'b' },
      ],
      PSI,
    )
    expect(err).toMatchObject({ status: 422, code: 'policy_violation' })
    expect(err.message).toMatch(/table b does not allow joins/)
    expect(await licenceState(licences.a)).toEqual(before.a)
    expect(await licenceState(licences.closed)).toEqual(before.closed)
  })

  it('refuses a query that costs more ε than one part’s licence has left → 429, charging nothing', async () => {
    // A second offer on A with a 0.3 ε budget: the join costs 0.5 (the strictest per-query ε).
    const ownerA = signerOf(OWNER_A)
    const small = {
      price: PRICE,
      currency: NATIVE_CURRENCY,
      duration: 86_400,
      maxJobs: 3,
      epsilonBudgetMilli: 300,
      purposes: 0xffffffff,
    }
    await (await (market.connect(ownerA) as Contract).setOffer(assets.a.tokenId, small)).wait()
    const thin = await buy(signerOf(BUYER), assets.a.tokenId, 2n)
    const before = { thin: await licenceState(thin), b: await licenceState(licences.b) }
    const err = await refusal(
      [
        { licenceId: thin, contentHash: assets.a.contentHash, table: 'a' },
        { licenceId: licences.b, contentHash: assets.b.contentHash, table: 'b' },
      ],
      PSI,
    )
    expect(err).toMatchObject({ status: 429, code: 'budget_exhausted' })
    expect(await licenceState(thin)).toEqual(before.thin)
    expect(await licenceState(licences.b)).toEqual(before.b)
  })
})
