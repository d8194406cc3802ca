// A licence priced in an ERC-20, bought with the CLI against the processes `npm start` runs (R6, R10): the
// admin allows a token, the owner offers in it, and `stillflow buy` approves exactly the price and buys —
// the buyer's balance falls by the price, the owner's withdrawable balance in the token rises by price −
// fee, and no allowance is left over. A buyer holding too little is refused before anything is sent.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, ContractFactory, JsonRpcProvider, NonceManager, Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dataMarketAbi } from '../../contracts/index'
import { testOnly } from '../../contracts/generated'
import { ApiClient, buildSetOffer, findLicences, marketEvents, quotePurchase, sendBuilt } from '../../sdk/src/index'
import { cliRunner } from '../support/cli'
import { DEV_KEYS, devWallet, freePorts, startStack, type Stack } from '../../scripts/stack'

const root = process.cwd()
const OWNER = 13
const BUYER = 14
const POOR = 15

const UNIT = 10n ** 18n
const PRICE = (5n * UNIT) / 2n // 2.5 TEST
const CSV = ['site,level', ...Array.from({ length: 200 }, (_, i) => `s-${i % 3},${(i * 13) % 97}`)].join('\n') + '\n'

describe('buying a licence priced in an ERC-20', () => {
  let stack: Stack
  let dataDir: string
  let provider: JsonRpcProvider
  let api: ApiClient
  let market: Contract
  let token: Contract
  let tokenAddress: string
  let tokenId: string
  let offerId: string

  const cli = (args: string[]) => cliRunner(root, () => stack, join(dataDir, 'cli'))(args)
  const address = (index: number) => devWallet(index).address
  const balance = (index: number) => token.balanceOf(address(index)) as Promise<bigint>
  const allowance = (index: number) => token.allowance(address(index), market.target) as Promise<bigint>

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-erc20-buy-'))
    stack = await startStack({ root, dataDir, ports: await freePorts() })
    provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
    api = new ApiClient({ apiUrl: stack.urls.api })
    market = new Contract(stack.addressBook.contracts.DataMarket, dataMarketAbi, provider)

    // The marketplace admin deploys the test token, allows it, and mints the buyers' balances.
    const admin = new NonceManager(new Wallet(DEV_KEYS.admin, provider))
    const { abi, bytecode } = testOnly.TestERC20
    const deployed = await new ContractFactory(abi, bytecode, admin).deploy()
    await deployed.waitForDeployment()
    tokenAddress = await deployed.getAddress()
    token = new Contract(tokenAddress, abi, admin)
    await (await market.connect(admin).getFunction('setCurrencyAllowed')(tokenAddress, true)).wait()
    await (await token.mint(address(BUYER), 10n * UNIT)).wait()
    await (await token.mint(address(POOR), UNIT)).wait()

    const file = join(dataDir, 'levels.csv')
    writeFileSync(file, CSV)
    const published = await cli(['publish', file, '--title', 'River levels', '--dev-account', String(OWNER), '--json'])
    expect(published.code, published.stderr).toBe(0)
    tokenId = JSON.parse(published.stdout).tokenId

    // The CLI offers only in ETH: the owner's wallet sets the token offer through the SDK.
    const tx = await buildSetOffer(api, tokenId, {
      price: PRICE,
      currency: tokenAddress,
      durationSeconds: 3600,
      maxJobs: 3,
      epsilonBudgetMilli: 5000,
    })
    offerId = marketEvents(await sendBuilt(devWallet(OWNER, provider), tx)).offerId!
  })
  afterAll(async () => {
    provider?.destroy()
    await stack?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('approves exactly the price, buys, and leaves the owner price − fee and no allowance', async () => {
    const quote = await quotePurchase(api, tokenId, offerId)
    expect(quote.approval).toEqual({ token: tokenAddress, spender: market.target, amount: PRICE.toString() })
    const feeBps = BigInt(await market.platformFeeBps())
    const fee = (PRICE * feeBps) / 10_000n
    const buyerBefore = await balance(BUYER)
    const ownerBefore = (await market.pendingWithdrawal(address(OWNER), tokenAddress)) as bigint
    expect(await allowance(BUYER)).toBe(0n)

    const res = await cli(['buy', tokenId, offerId, '--yes', '--dev-account', String(BUYER), '--json'])
    expect(res.code, res.stderr).toBe(0)
    const out = JSON.parse(res.stdout)
    expect(out).toMatchObject({
      tokenId,
      offerId,
      buyer: address(BUYER),
      price: PRICE.toString(),
      fee: fee.toString(),
      currency: tokenAddress,
      symbol: 'TEST',
      decimals: 18,
      approvalSent: true,
    })

    const licence = await market.licence(out.licenceId)
    expect(licence.buyer).toBe(address(BUYER))
    expect(licence.tokenId).toBe(BigInt(tokenId))
    expect(buyerBefore - (await balance(BUYER))).toBe(PRICE)
    expect((await market.pendingWithdrawal(address(OWNER), tokenAddress)) - ownerBefore).toBe(PRICE - fee)
    expect(await allowance(BUYER)).toBe(0n)
  })

  it('shows the cost in the token’s units and refuses a balance below the price with exit 3, sending nothing', async () => {
    const nonce = await provider.getTransactionCount(address(POOR))
    const count = await market.licenceCount()
    const res = await cli(['buy', tokenId, offerId, '--yes', '--dev-account', String(POOR)])
    expect(res.code, res.stderr).toBe(3)
    expect(res.stderr).toContain('total cost  2.5 TEST (+ gas in ETH)')
    expect(res.stderr).toContain(`approving the marketplace`)
    expect(res.stderr).toContain('this wallet holds 1.0 TEST, the licence costs 2.5 TEST')
    expect(await provider.getTransactionCount(address(POOR))).toBe(nonce)
    expect(await allowance(POOR)).toBe(0n)
    expect(await market.licenceCount()).toBe(count)
    expect(await findLicences(provider, String(market.target), address(POOR), tokenId)).toEqual([])
    expect(await balance(POOR)).toBe(UNIT)
    // Without --yes the shortfall comes before the confirmation: the buyer is not asked to agree to a
    // purchase that cannot happen (here no terminal, which would otherwise be exit 2 asking for --yes).
    const unasked = await cli(['buy', tokenId, offerId, '--dev-account', String(POOR)])
    expect(unasked.code, unasked.stderr).toBe(3)
    expect(unasked.stderr).toContain('this wallet holds 1.0 TEST, the licence costs 2.5 TEST')
    expect(unasked.stderr).not.toMatch(/--yes/)
  })
})
