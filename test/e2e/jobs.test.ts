// Licences and compute jobs end to end against the processes `npm start` runs (issue 6; R6, R9, R10,
// R51–R54, R58): the owner publishes with an offer, the buyer buys with the CLI, runs a DP query with the
// CLI and decrypts it; the receipt is on chain with the approved measurement, the licence's quota and ε
// went down by exactly the receipt's amounts, the owner's balance by price − fee. Then every refusal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, encodeBytes32String, HDNodeWallet, JsonRpcProvider, Mnemonic, NonceManager, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeLedgerAbi, dataAssetNftAbi, dataMarketAbi, NATIVE_CURRENCY } from '../../contracts/index'
import {
  ApiClient,
  ApiRequestError,
  createJobRequest,
  generateResultKey,
  getJob,
  listOffers,
  quotePurchase,
  signJobRequest,
  submitJob,
  waitForJob,
  JobNotSucceededError,
  type JobView,
  type MarketRef,
} from '../../sdk/src/index'
import { jobIdOf } from '../../tee-sim/src/job-request'
import { cliRunner } from '../support/cli'
import { DEV_KEYS, devWallet, freePorts, startStack, type Stack } from '../../scripts/stack'

const root = process.cwd()
const OWNER = 10
const BUYER = 11
const STRANGER = 12

const CSV =
  [
    'station,day,temp_c,rain_mm',
    ...Array.from(
      { length: 600 },
      (_, i) => `st-${i % 4},2024-02-${String((i % 28) + 1).padStart(2, '0')},${(i * 7) % 31},${i % 5}`,
    ),
  ].join('\n') + '\n'
const QUERY = 'SELECT COUNT(*) AS n FROM data'
/** The indexer mirrors a block within a few cron ticks (3 s each under startStack). */
const POLL = { timeout: 60_000, interval: 1_000 }

describe('licences and compute jobs', () => {
  let stack: Stack
  let dataDir: string
  let provider: JsonRpcProvider
  let api: ApiClient
  let market: Contract
  let ledger: Contract
  let nft: Contract
  let marketRef: MarketRef
  let tokenId: string
  let contentHash: string
  let licenceId: string

  const cli = (args: string[]) => cliRunner(root, () => stack, join(dataDir, 'cli'))(args)
  const cliJson = async (args: string[]) => {
    const res = await cli([...args, '--json'])
    expect(res.code, res.stderr).toBe(0)
    return JSON.parse(res.stdout)
  }

  /** A signed job body, as the SDK builds it; `signerIndex` signs. */
  async function signedJob(
    signerIndex: number,
    opts: { licence?: string; query?: string; deadline?: number; nonce?: string } = {},
  ) {
    const query = opts.query ?? QUERY
    const request = createJobRequest({
      licenceId: opts.licence ?? licenceId,
      contentHash,
      query,
      resultPublicKey: generateResultKey().publicKey,
      deadline: opts.deadline,
      nonce: opts.nonce,
    })
    const signature = await signJobRequest(devWallet(signerIndex, provider), request, marketRef)
    return { request, signature, query }
  }

  const jobIdOfBody = (body: { request: Parameters<typeof jobIdOf>[0] }) =>
    jobIdOf(body.request, marketRef.chainId, marketRef.dataMarket)

  async function refusal(body: unknown): Promise<{ status: number; code: string; body: unknown }> {
    try {
      await api.request('/jobs', { method: 'POST', json: body })
    } catch (err) {
      if (err instanceof ApiRequestError) return { status: err.status, code: err.code, body: err.body }
      throw err
    }
    throw new Error('the job was accepted')
  }

  async function licenceState(id: string) {
    const l = await market.licence(id)
    return { jobsLeft: Number(l.jobsLeft), epsilonLeftMilli: Number(l.epsilonLeftMilli) }
  }

  /** A new 0.001 ETH offer on the asset with this quota and ε budget (the owner's CLI). */
  async function offer(jobs: number, epsilon: number): Promise<{ offerId: string }> {
    return cliJson([
      'offer',
      'create',
      tokenId,
      '--price',
      '0.001',
      '--jobs',
      String(jobs),
      '--epsilon',
      String(epsilon),
      '--dev-account',
      String(OWNER),
    ])
  }

  async function buy(offerId: string): Promise<string> {
    const out = await cliJson(['buy', tokenId, offerId, '--yes', '--dev-account', String(BUYER)])
    return out.licenceId
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-jobs-'))
    stack = await startStack({
      root,
      dataDir,
      ports: await freePorts(),
    })
    provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
    api = new ApiClient({ apiUrl: stack.urls.api })
    const c = stack.addressBook.contracts
    market = new Contract(c.DataMarket, dataMarketAbi, provider)
    ledger = new Contract(c.ComputeLedger, computeLedgerAbi, provider)
    nft = new Contract(c.DataAssetNFT, dataAssetNftAbi, provider)
    marketRef = { chainId: 31337, dataMarket: c.DataMarket }

    const file = join(dataDir, 'stations.csv')
    writeFileSync(file, CSV)
    const published = await cliJson([
      'publish',
      file,
      '--title',
      'Station readings',
      '--dev-account',
      String(OWNER),
      '--price',
      '0.02',
      '--jobs',
      '5',
      '--epsilon',
      '10',
    ])
    tokenId = published.tokenId
    contentHash = published.contentHash
  })
  afterAll(async () => {
    provider?.destroy()
    await stack?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('buys with the CLI, runs a DP query with the CLI and decrypts it; receipt, quota, ε and payout all agree with the chain', async () => {
    const owner = devWallet(OWNER, provider).address
    const listed = await cliJson(['offer', 'list', tokenId])
    expect(listed.offers).toMatchObject([{ offerId: '1', price: '20000000000000000', maxJobs: 5, active: true }])

    const ownerBefore = (await market.pendingWithdrawal(owner, NATIVE_CURRENCY)) as bigint
    const feeBps = BigInt(await market.platformFeeBps())
    const bought = await cliJson(['buy', tokenId, '1', '--yes', '--dev-account', String(BUYER)])
    licenceId = bought.licenceId
    const price = 20_000_000_000_000_000n
    expect(bought).toMatchObject({ tokenId, offerId: '1', price: price.toString() })
    const fee = (price * feeBps) / 10_000n
    expect(BigInt(bought.fee)).toBe(fee)
    expect((await market.pendingWithdrawal(owner, NATIVE_CURRENCY)) - ownerBefore).toBe(price - fee)
    expect(await nft.ownerOf(tokenId)).toBe(owner) // R6: buying never moves the NFT
    const before = await licenceState(licenceId)
    expect(before).toEqual({ jobsLeft: 5, epsilonLeftMilli: 10_000 })

    const out = await cliJson(['job', tokenId, QUERY, '--dev-account', String(BUYER)])
    expect(out.columns).toEqual(['n'])
    expect(Math.abs(Number(out.rows[0][0]) - 600)).toBeLessThan(60) // DP noise at ε = 1 is a few units
    expect(out.licenceId).toBe(licenceId)

    const receipt = out.receipt.receipt
    expect(receipt.measurement).toBe(stack.addressBook.approvedMeasurement)
    expect(await ledger.isJobRecorded(out.jobId)).toBe(true)
    const [event] = await ledger.queryFilter(ledger.filters.JobRecorded(out.jobId))
    expect(event.transactionHash).toBe(out.txHash)
    const args = (event as unknown as { args: Record<string, unknown> }).args
    expect(args.measurement).toBe(stack.addressBook.approvedMeasurement)
    expect(args.resultHash).toBe(receipt.resultHash)
    expect(args.licenceId).toBe(BigInt(licenceId))
    const after = await licenceState(licenceId)
    expect(before.jobsLeft - after.jobsLeft).toBe(1)
    expect(before.epsilonLeftMilli - after.epsilonLeftMilli).toBe(receipt.epsilonSpentMilli)
    expect(receipt.epsilonSpentMilli).toBeGreaterThan(0)

    const job = await getJob(api, out.jobId)
    expect(job).toMatchObject({
      status: 'succeeded',
      licenceId,
      tokenId,
      receipt: { txHash: out.txHash, resultHash: receipt.resultHash, measurement: receipt.measurement },
      resultAvailable: true,
    })
    // What the operator stores is ciphertext: the result endpoint serves the sealed bytes, not the count.
    const sealed = await api.request<{ sealedResult: string }>(`/jobs/${out.jobId}/result`)
    expect(sealed.sealedResult).toMatch(/^0x[0-9a-f]+$/)
    expect(sealed.sealedResult).not.toContain(Buffer.from('"columns"').toString('hex'))

    // The owner collects the proceeds with the CLI: exactly what the contract held for them, then nothing.
    const earned = (await market.pendingWithdrawal(owner, NATIVE_CURRENCY)) as bigint
    const withdrawn = await cliJson(['withdraw', '--yes', '--dev-account', String(OWNER)])
    expect(withdrawn).toMatchObject({ account: owner, amount: earned.toString(), txHash: expect.stringMatching(/^0x/) })
    expect(await market.pendingWithdrawal(owner, NATIVE_CURRENCY)).toBe(0n)
    const again = await cli(['withdraw', '--yes', '--dev-account', String(OWNER), '--json'])
    expect(again.code).toBe(3)
    expect(again.stdout + again.stderr).toContain('has nothing to withdraw')
  })

  describe('refusals at submission, each a precise 4xx that costs nothing', () => {
    it('a malformed signature → 401; a request signed by someone without the licence → 403', async () => {
      const body = await signedJob(BUYER)
      expect(await refusal({ ...body, signature: `0x${'00'.repeat(64)}1b` })).toMatchObject({
        status: 401,
        code: 'request_signature_invalid',
      })
      expect(await refusal(await signedJob(STRANGER))).toMatchObject({ status: 403, code: 'not_licence_holder' })
    })

    it('no such licence → 404; a deadline in the past → 400; SQL that does not match its hash → 400', async () => {
      expect(await refusal(await signedJob(BUYER, { licence: '999' }))).toMatchObject({
        status: 404,
        code: 'licence_not_found',
      })
      expect(await refusal(await signedJob(BUYER, { deadline: Math.floor(Date.now() / 1000) - 5 }))).toMatchObject({
        status: 400,
        code: 'deadline_passed',
      })
      const body = await signedJob(BUYER)
      expect(await refusal({ ...body, query: 'SELECT COUNT(*) AS m FROM data' })).toMatchObject({
        status: 400,
        code: 'query_hash_mismatch',
      })
    })

    it('a query the policy forbids and malformed SQL → 422 with the enclave reason before anything is queued; a replayed nonce → 409', async () => {
      // A valid job first, then its replay: the job id is the request digest, so the second is refused.
      const valid = await signedJob(BUYER)
      const accepted = await submitJob(api, valid)
      expect(await refusal(valid)).toMatchObject({
        status: 409,
        code: 'nonce_used',
        body: { error: { jobId: accepted.jobId } },
      })
      await waitForJob(api, accepted.jobId)
      const before = await licenceState(licenceId)
      for (const [query, code, message] of [
        ['SELECT * FROM data', 'query_rejected', /SELECT \* would expose rows/],
        ['SELEC COUNT( FROM data', 'query_rejected', /does not parse/],
        ['SELECT COUNT(*) FROM data JOIN other ON data.a = other.a', 'policy_violation', /joins are not allowed/],
      ] as const) {
        const body = await signedJob(BUYER, { query })
        const refused = await refusal(body)
        expect(refused).toMatchObject({ status: 422, code })
        expect(JSON.stringify(refused.body)).toMatch(message)
        // Nothing was queued: the request's job id is unknown and its nonce is still free.
        const res = await api.request(`/jobs/${jobIdOfBody(body)}`).catch((e: ApiRequestError) => e)
        expect(res).toMatchObject({ status: 404, code: 'job_not_found' })
      }
      expect(await licenceState(licenceId)).toEqual(before)
    })

    it('an expired licence → 403 licence_expired', async () => {
      const offer = await cliJson([
        'offer',
        'create',
        tokenId,
        '--price',
        '0.001',
        '--seconds',
        '2',
        '--dev-account',
        String(OWNER),
      ])
      const id = await buy(offer.offerId)
      const { expiresAt } = await market.licence(id)
      await new Promise((r) => setTimeout(r, Math.max(0, (Number(expiresAt) + 1) * 1000 - Date.now())))
      expect(await refusal(await signedJob(BUYER, { licence: id }))).toMatchObject({
        status: 403,
        code: 'licence_expired',
      })
    })

    it('an exhausted job quota → 429 quota_exhausted; an exhausted ε budget → 429 budget_exhausted', async () => {
      const quota = await offer(1, 5)
      const budget = await offer(5, 1)
      const quotaLicence = await buy(quota.offerId)
      const budgetLicence = await buy(budget.offerId)
      for (const id of [quotaLicence, budgetLicence]) {
        await cliJson(['job', tokenId, QUERY, '--licence', id, '--dev-account', String(BUYER)])
      }
      expect(await licenceState(quotaLicence)).toMatchObject({ jobsLeft: 0 })
      expect(await licenceState(budgetLicence)).toMatchObject({ epsilonLeftMilli: 0 })
      expect(await refusal(await signedJob(BUYER, { licence: quotaLicence }))).toMatchObject({
        status: 429,
        code: 'quota_exhausted',
      })
      expect(await refusal(await signedJob(BUYER, { licence: budgetLicence }))).toMatchObject({
        status: 429,
        code: 'budget_exhausted',
      })
      // The CLI finds no usable licence among the exhausted ones when told to use one of them.
      const res = await cli([
        'job',
        tokenId,
        QUERY,
        '--licence',
        quotaLicence,
        '--dev-account',
        String(BUYER),
        '--json',
      ])
      expect(res.code).toBe(3)
    })

    it('two jobs racing for a licence’s last job: one is queued, the other is refused 429 naming the job in flight', async () => {
      const last = await buy((await offer(1, 5)).offerId)
      const bodies = await Promise.all([signedJob(BUYER, { licence: last }), signedJob(BUYER, { licence: last })])
      const outcomes = await Promise.all(
        bodies.map((body) =>
          api.request<{ jobId: string }>('/jobs', { method: 'POST', json: body }).then(
            (accepted) => ({ accepted }),
            (err: unknown) => ({ err }),
          ),
        ),
      )
      const accepted = outcomes.flatMap((o) => ('accepted' in o ? [o.accepted] : []))
      const refused = outcomes.flatMap((o) => ('err' in o ? [o.err] : []))
      expect(accepted).toHaveLength(1)
      expect(refused).toHaveLength(1)
      expect(refused[0]).toBeInstanceOf(ApiRequestError)
      expect(refused[0]).toMatchObject({ status: 429, code: 'quota_exhausted' })
      expect((refused[0] as ApiRequestError).message).toMatch(
        /1 job left on chain, and 1 of your jobs is already queued/,
      )
      // The accepted one runs and spends the licence's only job.
      expect((await waitForJob(api, accepted[0].jobId, { timeoutMs: 300_000 })).status).toBe('succeeded')
      expect(await licenceState(last)).toMatchObject({ jobsLeft: 0 })
    })

    it('offers of an asset that changed hands no longer sell; the buyer is told why before paying', async () => {
      const buyable = async () => (await listOffers(api, tokenId, { activeOnly: true })).map((o) => o.offerId)
      const offered = await buyable()
      expect(offered.length).toBeGreaterThan(0)
      const owner = devWallet(OWNER, provider)
      const heir = devWallet(STRANGER, provider)
      const transfer = async (from: typeof owner, to: string) =>
        (
          await (nft.connect(from) as Contract).getFunction('safeTransferFrom(address,address,uint256)')(
            await from.getAddress(),
            to,
            tokenId,
          )
        ).wait()
      await transfer(owner, await heir.getAddress())
      try {
        expect(await buyable()).toEqual([])
        const all = await listOffers(api, tokenId)
        expect(all.every((o) => !o.active && o.inactive === 'previous_owner')).toBe(true)
        const refused = await quotePurchase(api, tokenId, offered[0]).catch((e: unknown) => e)
        expect(refused).toMatchObject({ status: 409, code: 'offer_inactive' })
        expect((refused as Error).message).toMatch(/set by a previous owner .* now belongs to/)

        // `stillflow assets`: the publisher sees to whom it went, the new owner sees it as received.
        const heirAddress = await heir.getAddress()
        const assetsOf = async (account: number) => {
          expect((await cli(['login', '--dev-account', String(account)])).code).toBe(0)
          const res = await cli(['assets', '--json'])
          expect(res.code, res.stderr).toBe(0)
          return JSON.parse(res.stdout) as {
            publications: Array<{ tokenId?: string; now?: { owner?: string } }>
            owned: Array<{ tokenId: string }>
          }
        }
        await expect
          .poll(async () => (await assetsOf(OWNER)).publications.find((p) => p.tokenId === tokenId)?.now, POLL)
          .toEqual({ owner: heirAddress.toLowerCase() })
        await expect.poll(async () => (await assetsOf(STRANGER)).owned.map((a) => a.tokenId), POLL).toContain(tokenId)
        // The publisher no longer manages it: a new offer is refused before the wallet signs anything.
        const nonce = await provider.getTransactionCount(await owner.getAddress())
        const late = await cli(['offer', 'create', tokenId, '--price', '0.001', '--dev-account', String(OWNER)])
        expect(late.code).toBe(3)
        expect(late.stderr).toMatch(/neither owns asset \d+ nor is its delegate.*\(not_asset_manager\)/)
        expect(await provider.getTransactionCount(await owner.getAddress())).toBe(nonce)
      } finally {
        await transfer(heir, await owner.getAddress())
      }
      // Back with its publisher, the asset's old offers stay retired: the contract compares each offer's tenure
      // with the asset's transfer count, so terms set before a sale never sell again.
      await expect
        .poll(async () => {
          const all = await listOffers(api, tokenId)
          return all.filter((o) => offered.includes(o.offerId)).map((o) => o.inactive)
        }, POLL)
        .toEqual(offered.map(() => 'set_before_transfer'))
      const stale = await quotePurchase(api, tokenId, offered[0]).catch((e: unknown) => e)
      expect(stale).toMatchObject({ status: 409, code: 'offer_inactive' })
      expect((stale as Error).message).toMatch(/set before the asset last changed hands/)
      // An offer set now sells (the tests after this one use it).
      const fresh = await offer(3, 5)
      expect(await buyable()).toEqual([fresh.offerId])
      // `stillflow offer list --all` says why each old one does not sell.
      const listing = await cli(['offer', 'list', tokenId, '--all'])
      expect(listing.code, listing.stderr).toBe(0)
      for (const id of offered)
        expect(listing.stdout).toMatch(
          new RegExp(`#${id} .*\\(not on sale: set before the asset last changed hands\\)`),
        )
    })

    it('a frozen asset → 403 asset_frozen; a revoked one → 403 asset_revoked (last: it ends the asset)', async () => {
      // A NonceManager: two transactions in a row must not both read the same pending nonce.
      const supervisor = new NonceManager(new Wallet(DEV_KEYS.supervisor, provider))
      await (await (nft.connect(supervisor) as Contract).freeze(tokenId, encodeBytes32String('e2e'))).wait()
      expect(await refusal(await signedJob(BUYER))).toMatchObject({ status: 403, code: 'asset_frozen' })
      // Its offers are not on sale meanwhile, and a purchase is refused before the buyer pays.
      const offers = await listOffers(api, tokenId)
      expect(offers.length).toBeGreaterThan(0)
      expect(offers.filter((o) => o.active)).toEqual([])
      expect(await quotePurchase(api, tokenId, offers[0].offerId).catch((e: unknown) => e)).toMatchObject({
        status: 409,
        code: 'asset_frozen',
      })
      // Nor can the owner set a new one until it is unfrozen.
      const frozenOffer = await cli(['offer', 'create', tokenId, '--price', '0.001', '--dev-account', String(OWNER)])
      expect(frozenOffer.code).toBe(3)
      expect(frozenOffer.stderr).toMatch(/frozen by a supervisor; no offer can be set.*\(asset_frozen\)/)
      await (await (nft.connect(supervisor) as Contract).unfreeze(tokenId)).wait()
      const owner = devWallet(OWNER, provider)
      await (await (nft.connect(owner) as Contract).revoke(tokenId)).wait()
      expect(await refusal(await signedJob(BUYER))).toMatchObject({ status: 403, code: 'asset_revoked' })
      expect(await quotePurchase(api, tokenId, offers[0].offerId).catch((e: unknown) => e)).toMatchObject({
        status: 409,
        code: 'asset_revoked',
      })
    })
  })
})
