import { ZeroAddress, ZeroHash, id, type Contract } from 'ethers'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  ETH,
  FEE_BPS,
  as,
  buy,
  defaultTerms,
  deployTest,
  deployWorld,
  expectEvent,
  expectRevert,
  feeOf,
  latestTimestamp,
  mined,
  mintAsset,
  offerOn,
  provider,
  setNextTimestamp,
  word,
  type World,
} from './fixture'

let w: World
let token: Contract
let tokenAddress: string

beforeEach(async () => {
  w = await deployWorld()
  token = await deployTest('TestERC20', w.deployer)
  tokenAddress = await token.getAddress()
})

const fee = (price: bigint) => (price * BigInt(FEE_BPS)) / 10_000n

describe('DataMarket.setOffer', () => {
  it('puts an immutable offer on chain for the owner, numbered per token', async () => {
    await mintAsset(w, w.owner, 'a')
    const terms = defaultTerms({
      price: 3n * ETH,
      maxJobs: 7,
      epsilonBudgetMilli: 4_500,
      purposes: 0b11,
      duration: 3_600,
    })
    const r = await mined(as(w.market, w.owner).setOffer(1, terms))
    expectEvent(r, w.market, 'OfferSet', [
      1n,
      1n,
      w.owner.address,
      w.owner.address,
      3n * ETH,
      ZeroAddress,
      3_600n,
      7n,
      4_500n,
      3n,
    ])
    expect((await w.market.offer(1, 1)).toArray()).toEqual([
      ZeroAddress,
      3_600n,
      7n,
      3n * ETH,
      4_500n,
      3n,
      true,
      w.owner.address,
      0n, // tenure: the asset has not changed hands
    ])
    expect(await offerOn(w, w.owner, 1n)).toBe(2n)
    expect(await w.market.offerCount(1)).toBe(2n)
  })

  it('lets the delegate list on the owner’s behalf; the owner is the payee', async () => {
    await mintAsset(w, w.owner, 'a')
    await mined(as(w.nft, w.owner).setDelegate(1, w.other.address))
    const r = await mined(as(w.market, w.other).setOffer(1, defaultTerms()))
    expectEvent(r, w.market, 'OfferSet', [
      1n,
      1n,
      w.owner.address,
      w.other.address,
      ETH,
      ZeroAddress,
      86_400n,
      3n,
      2_000n,
      5n,
    ])
  })

  it('refuses strangers, unknown tokens, revoked or frozen assets, bad terms, unlisted currencies, and a pause', async () => {
    await mintAsset(w, w.owner, 'a')
    const set = (signer = w.owner, terms = defaultTerms(), tokenId = 1) => as(w.market, signer).setOffer(tokenId, terms)
    await expectRevert(set(w.stranger), 'DataMarketNotAssetManager', [1n, w.stranger.address])
    await expectRevert(set(w.owner, defaultTerms(), 9), 'DataAssetNFTNonexistentToken', [9n])
    await expectRevert(set(w.owner, defaultTerms({ duration: 0 })), 'DataMarketInvalidOfferTerms', [1n, 0n, 3n, 5n])
    await expectRevert(set(w.owner, defaultTerms({ maxJobs: 0 })), 'DataMarketInvalidOfferTerms', [1n, 86_400n, 0n, 5n])
    await expectRevert(set(w.owner, defaultTerms({ purposes: 0 })), 'DataMarketInvalidOfferTerms', [
      1n,
      86_400n,
      3n,
      0n,
    ])
    await expectRevert(set(w.owner, defaultTerms({ currency: tokenAddress })), 'DataMarketCurrencyNotAllowed', [
      tokenAddress,
    ])
    await mined(as(w.market, w.supervisor).pause())
    await expectRevert(set(), 'StillflowRolesEnforcedPause', [])
    await mined(as(w.market, w.admin).unpause())
    await mined(as(w.nft, w.supervisor).freeze(1, word('r')))
    await expectRevert(set(), 'DataMarketAssetFrozen', [1n])
    await mined(as(w.nft, w.supervisor).unfreeze(1))
    await mined(as(w.nft, w.owner).revoke(1))
    await expectRevert(set(), 'DataMarketAssetRevoked', [1n])
  })
})

describe('DataMarket.withdrawOffer', () => {
  it('withdraws a listing, even while paused (R70)', async () => {
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n)
    await mined(as(w.market, w.admin).pause())
    const r = await mined(as(w.market, w.owner).withdrawOffer(1, 1))
    expectEvent(r, w.market, 'OfferWithdrawn', [1n, 1n, w.owner.address])
    expect((await w.market.offer(1, 1)).active).toBe(false)
    await expectRevert(as(w.market, w.owner).withdrawOffer(1, 1), 'DataMarketOfferInactive', [1n, 1n])
  })

  it('refuses strangers and unknown offers', async () => {
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n)
    await expectRevert(as(w.market, w.stranger).withdrawOffer(1, 1), 'DataMarketNotAssetManager', [
      1n,
      w.stranger.address,
    ])
    await expectRevert(as(w.market, w.owner).withdrawOffer(1, 2), 'DataMarketUnknownOffer', [1n, 2n])
    await expectRevert(w.market.offer(1, 2), 'DataMarketUnknownOffer', [1n, 2n])
  })
})

describe('DataMarket.buyLicence with the native currency', () => {
  it('records a licence, splits the payment into withdrawable balances, and never moves the NFT (R6)', async () => {
    await mintAsset(w, w.owner, 'a')
    await offerOn(
      w,
      w.owner,
      1n,
      defaultTerms({ price: 2n * ETH, duration: 1_000, maxJobs: 4, epsilonBudgetMilli: 900, purposes: 6 }),
    )
    const before = await provider.getBalance(w.buyer.address)
    const t = (await latestTimestamp()) + 10
    await setNextTimestamp(t)
    const r = await mined(as(w.market, w.buyer).buyLicence(1, 1, { value: 2n * ETH }))
    expectEvent(r, w.market, 'LicencePurchased', [
      1n,
      1n,
      w.buyer.address,
      1n,
      w.owner.address,
      ZeroAddress,
      2n * ETH,
      fee(2n * ETH),
      BigInt(t + 1_000),
    ])
    expect(await provider.getBalance(w.buyer.address)).toBe(before - 2n * ETH - feeOf(r))
    expect(await provider.getBalance(w.book.contracts.DataMarket)).toBe(2n * ETH)
    expect(await w.market.pendingWithdrawal(w.owner.address, ZeroAddress)).toBe(2n * ETH - fee(2n * ETH))
    expect(await w.market.pendingWithdrawal(w.treasury.address, ZeroAddress)).toBe(fee(2n * ETH))
    expect((await w.market.licence(1)).toArray()).toEqual([
      w.buyer.address,
      4n,
      900n,
      1n,
      BigInt(t + 1_000),
      1n,
      6n,
      BigInt(t),
    ])
    expect(await w.market.licenceCount()).toBe(1n)
    expect(await w.market.isLicenceLive(1)).toBe(true)
    expect(await w.nft.ownerOf(1)).toBe(w.owner.address)
  })

  it('sells free licences without creating balances', async () => {
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n, defaultTerms({ price: 0n }))
    await buy(w, w.buyer, 1n, 1n, 0n)
    expect(await w.market.pendingWithdrawal(w.owner.address, ZeroAddress)).toBe(0n)
    expect(await w.market.pendingWithdrawal(w.treasury.address, ZeroAddress)).toBe(0n)
  })

  it('requires the exact price', async () => {
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n)
    await expectRevert(as(w.market, w.buyer).buyLicence(1, 1, { value: ETH - 1n }), 'DataMarketWrongPayment', [
      ETH,
      ETH - 1n,
    ])
    await expectRevert(as(w.market, w.buyer).buyLicence(1, 1, { value: ETH + 1n }), 'DataMarketWrongPayment', [
      ETH,
      ETH + 1n,
    ])
  })

  it('sells nothing on unknown, withdrawn or stale offers, revoked or frozen assets, or while paused', async () => {
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n)
    await offerOn(w, w.owner, 1n)
    const buyIt = (offerId = 1) => as(w.market, w.buyer).buyLicence(1, offerId, { value: ETH })
    await expectRevert(buyIt(3), 'DataMarketUnknownOffer', [1n, 3n])
    await mined(as(w.market, w.owner).withdrawOffer(1, 2))
    await expectRevert(buyIt(2), 'DataMarketOfferInactive', [1n, 2n])
    await mined(as(w.market, w.supervisor).pause())
    await expectRevert(buyIt(), 'StillflowRolesEnforcedPause', [])
    await mined(as(w.market, w.admin).unpause())
    await mined(as(w.nft, w.supervisor).freeze(1, word('r')))
    await expectRevert(buyIt(), 'DataMarketAssetFrozen', [1n])
    await mined(as(w.nft, w.supervisor).unfreeze(1))
    await mined(as(w.nft, w.owner).transferFrom(w.owner.address, w.other.address, 1))
    await expectRevert(buyIt(), 'DataMarketOfferInactive', [1n, 1n]) // the offer lapsed with the sale of the asset
    await offerOn(w, w.other, 1n)
    await mined(as(w.nft, w.other).revoke(1))
    await expectRevert(buyIt(3), 'DataMarketAssetRevoked', [1n])
  })

  it('never sells an offer set before the asset changed hands, even when the asset comes back', async () => {
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n)
    const buyIt = (offerId: number) => as(w.market, w.buyer).buyLicence(1, offerId, { value: ETH })
    await mined(as(w.nft, w.owner).transferFrom(w.owner.address, w.other.address, 1))
    await mined(as(w.nft, w.other).transferFrom(w.other.address, w.owner.address, 1))
    // The first owner owns it again, but the terms they set before selling it stay retired.
    expect((await w.nft.assetInfo(1)).transfers).toBe(2n)
    expect((await w.market.offer(1, 1)).tenure).toBe(0n)
    await expectRevert(buyIt(1), 'DataMarketOfferInactive', [1n, 1n])
    // An offer set now sells, to the owner's account.
    await offerOn(w, w.owner, 1n)
    expect((await w.market.offer(1, 2)).tenure).toBe(2n)
    const before = await w.market.pendingWithdrawal(w.owner.address, ZeroAddress)
    await mined(buyIt(2))
    expect(await w.market.pendingWithdrawal(w.owner.address, ZeroAddress)).toBeGreaterThan(before)
  })
})

describe('DataMarket.buyLicence with an ERC-20', () => {
  async function allowToken() {
    const r = await mined(as(w.market, w.admin).setCurrencyAllowed(tokenAddress, true))
    expectEvent(r, w.market, 'CurrencyAllowed', [tokenAddress, true])
    expect(await w.market.isCurrencyAllowed(tokenAddress)).toBe(true)
  }

  it('pulls exactly the price with transferFrom and credits owner and treasury', async () => {
    await allowToken()
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n, defaultTerms({ price: 1_000n, currency: tokenAddress }))
    await mined(as(token, w.buyer).mint(w.buyer.address, 5_000n))
    await mined(as(token, w.buyer).approve(w.book.contracts.DataMarket, 1_000n))
    const r = await mined(as(w.market, w.buyer).buyLicence(1, 1))
    expectEvent(r, token, 'Transfer', [w.buyer.address, w.book.contracts.DataMarket, 1_000n])
    expect(await token.balanceOf(w.buyer.address)).toBe(4_000n)
    expect(await token.balanceOf(w.book.contracts.DataMarket)).toBe(1_000n)
    expect(await w.market.pendingWithdrawal(w.owner.address, tokenAddress)).toBe(1_000n - fee(1_000n))
    expect(await w.market.pendingWithdrawal(w.treasury.address, tokenAddress)).toBe(fee(1_000n))

    const out = await mined(as(w.market, w.owner).withdraw(tokenAddress))
    expectEvent(out, w.market, 'PaymentWithdrawn', [w.owner.address, tokenAddress, 1_000n - fee(1_000n)])
    expect(await token.balanceOf(w.owner.address)).toBe(1_000n - fee(1_000n))
    expect(await w.market.pendingWithdrawal(w.owner.address, tokenAddress)).toBe(0n)
  })

  it('refuses native value, missing allowance, fee-on-transfer tokens and currencies disallowed later', async () => {
    await allowToken()
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n, defaultTerms({ price: 1_000n, currency: tokenAddress }))
    await mined(as(token, w.buyer).mint(w.buyer.address, 5_000n))
    await expectRevert(as(w.market, w.buyer).buyLicence(1, 1, { value: 1n }), 'DataMarketWrongPayment', [0n, 1n])
    await expectRevert(as(w.market, w.buyer).buyLicence(1, 1), 'ERC20InsufficientAllowance', [
      w.book.contracts.DataMarket,
      0n,
      1_000n,
    ])
    await mined(as(token, w.buyer).approve(w.book.contracts.DataMarket, 10_000n))
    await mined(as(token, w.buyer).setFeeBps(100))
    await expectRevert(as(w.market, w.buyer).buyLicence(1, 1), 'DataMarketPaymentShortfall', [
      tokenAddress,
      1_000n,
      990n,
    ])
    await mined(as(token, w.buyer).setFeeBps(0))
    await mined(as(w.market, w.admin).setCurrencyAllowed(tokenAddress, false))
    await expectRevert(as(w.market, w.buyer).buyLicence(1, 1), 'DataMarketCurrencyNotAllowed', [tokenAddress])
  })
})

describe('DataMarket.withdraw', () => {
  it('pays out the whole native balance once', async () => {
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n)
    await buy(w, w.buyer, 1n, 1n, ETH)
    await buy(w, w.buyer, 1n, 1n, ETH)
    const before = await provider.getBalance(w.owner.address)
    const r = await mined(as(w.market, w.owner).withdraw(ZeroAddress))
    const due = 2n * (ETH - fee(ETH))
    expectEvent(r, w.market, 'PaymentWithdrawn', [w.owner.address, ZeroAddress, due])
    expect(await provider.getBalance(w.owner.address)).toBe(before + due - feeOf(r))
    expect(await provider.getBalance(w.book.contracts.DataMarket)).toBe(2n * fee(ETH))
    await expectRevert(as(w.market, w.owner).withdraw(ZeroAddress), 'DataMarketNothingToWithdraw', [
      w.owner.address,
      ZeroAddress,
    ])
    const t = await mined(as(w.market, w.treasury).withdraw(ZeroAddress))
    expectEvent(t, w.market, 'PaymentWithdrawn', [w.treasury.address, ZeroAddress, 2n * fee(ETH)])
    expect(await provider.getBalance(w.book.contracts.DataMarket)).toBe(0n)
  })

  it('reverts when the payee refuses the native currency, keeping the balance', async () => {
    const payee = await deployTest('TestReceiver', w.deployer, [true, false])
    const payeeAddress = await payee.getAddress()
    await mintAsset(w, w.owner, 'a')
    await mined(as(w.nft, w.owner).transferFrom(w.owner.address, payeeAddress, 1))
    const setOffer = w.market.interface.encodeFunctionData('setOffer', [1, defaultTerms()])
    await mined(as(payee, w.owner).execute(w.book.contracts.DataMarket, setOffer))
    await buy(w, w.buyer, 1n, 1n, ETH)
    const withdraw = w.market.interface.encodeFunctionData('withdraw', [ZeroAddress])
    await expectRevert(as(payee, w.owner).execute(w.book.contracts.DataMarket, withdraw), 'DataMarketTransferFailed', [
      payeeAddress,
      ETH - fee(ETH),
    ])
    expect(await w.market.pendingWithdrawal(payeeAddress, ZeroAddress)).toBe(ETH - fee(ETH))
  })
})

describe('DataMarket.consumeLicence', () => {
  it('is for the ledger only', async () => {
    await expectRevert(as(w.market, w.relayer).consumeLicence(1, word('job'), 1), 'AccessControlUnauthorizedAccount', [
      w.relayer.address,
      id('LEDGER_ROLE'),
    ])
    expect(await w.market.hasRole(id('LEDGER_ROLE'), w.book.contracts.ComputeLedger)).toBe(true)
  })
})

describe('DataMarket governance', () => {
  it('lets the admin set the fee, the treasury and the currency allow-list, each logged', async () => {
    const f = await mined(as(w.market, w.admin).setPlatformFee(1_000))
    expectEvent(f, w.market, 'PlatformFeeSet', [BigInt(FEE_BPS), 1_000n])
    expect(await w.market.platformFeeBps()).toBe(1_000n)
    const t = await mined(as(w.market, w.admin).setTreasury(w.other.address))
    expectEvent(t, w.market, 'TreasurySet', [w.treasury.address, w.other.address])
    expect(await w.market.treasury()).toBe(w.other.address)
    expect(await w.market.assets()).toBe(w.book.contracts.DataAssetNFT)
    expect(await w.market.MAX_PLATFORM_FEE_BPS()).toBe(1_000n)

    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n)
    await buy(w, w.buyer, 1n, 1n, ETH)
    expect(await w.market.pendingWithdrawal(w.other.address, ZeroAddress)).toBe(ETH / 10n)
  })

  it('refuses too high a fee, a zero treasury, non-contract currencies and non-admins', async () => {
    await expectRevert(as(w.market, w.admin).setPlatformFee(1_001), 'DataMarketFeeTooHigh', [1_001n, 1_000n])
    await expectRevert(as(w.market, w.admin).setTreasury(ZeroAddress), 'DataMarketZeroTreasury', [])
    await expectRevert(as(w.market, w.admin).setCurrencyAllowed(ZeroAddress, true), 'DataMarketInvalidCurrency', [
      ZeroAddress,
    ])
    await expectRevert(as(w.market, w.admin).setCurrencyAllowed(w.other.address, true), 'DataMarketInvalidCurrency', [
      w.other.address,
    ])
    for (const call of [
      (m: ReturnType<typeof as>) => m.setPlatformFee(1),
      (m: ReturnType<typeof as>) => m.setTreasury(w.other.address),
      (m: ReturnType<typeof as>) => m.setCurrencyAllowed(tokenAddress, true),
    ]) {
      await expectRevert(call(as(w.market, w.supervisor)), 'AccessControlUnauthorizedAccount', [
        w.supervisor.address,
        ZeroHash,
      ])
    }
  })
})

describe('DataMarket views', () => {
  it('licence() reverts for unknown ids; isLicenceLive follows expiry, quota and asset state', async () => {
    await expectRevert(w.market.licence(1), 'DataMarketUnknownLicence', [1n])
    expect(await w.market.isLicenceLive(1)).toBe(false)
    await mintAsset(w, w.owner, 'a')
    await offerOn(w, w.owner, 1n, defaultTerms({ duration: 100 }))
    await buy(w, w.buyer, 1n, 1n, ETH)
    expect(await w.market.isLicenceLive(1)).toBe(true)
    await mined(as(w.nft, w.supervisor).freeze(1, word('r')))
    expect(await w.market.isLicenceLive(1)).toBe(false)
    await mined(as(w.nft, w.supervisor).unfreeze(1))
    const { expiresAt } = await w.market.licence(1)
    await provider.send('evm_setNextBlockTimestamp', [Number(expiresAt)])
    await provider.send('evm_mine', [])
    expect(await w.market.isLicenceLive(1)).toBe(false)
    expect(await w.market.offerCount(2)).toBe(0n)
  })
})
