// Paying for a licence in an ERC-20 from the buyer's wallet (sdk/src/offers.ts): the token read in its own
// units, and ensureAllowance — a short balance refused before anything is sent, an approval of exactly the
// price sent only when the allowance is below it, never an unlimited one. Against an in-process chain.
import { beforeAll, describe, expect, it } from 'vitest'
import hre from 'hardhat'
import { BrowserProvider, HDNodeWallet, type Contract, type JsonRpcSigner } from 'ethers'
import {
  ensureAllowance,
  formatTokenAmount,
  InsufficientTokenBalanceError,
  StillflowError,
  tokenInfo,
} from '../../sdk/src/index'
import { as, deployTest, ETH, mined, provider } from '../contracts/fixture'

let token: Contract
let tokenAddress: string
let buyer: JsonRpcSigner
let poor: JsonRpcSigner
let spender: string
const PRICE = 3n * ETH
const HARDHAT_MNEMONIC = 'test test test test test test test test test test test junk'

beforeAll(async () => {
  const [deployer, b, p, s] = await Promise.all([10, 11, 12, 13].map((i) => provider.getSigner(i)))
  buyer = b
  poor = p
  spender = s.address
  token = await deployTest('TestERC20', deployer)
  tokenAddress = await token.getAddress()
  await mined(as(token, deployer).mint(buyer.address, 10n * ETH))
  await mined(as(token, deployer).mint(poor.address, 2n * ETH))
})

const approval = () => ({ token: tokenAddress, spender, amount: PRICE.toString() })
const allowance = (owner: { address: string }) => token.allowance(owner.address, spender) as Promise<bigint>

describe('tokenInfo', () => {
  it('reads the symbol and decimals, so amounts are shown in the token’s units', async () => {
    const info = await tokenInfo(provider, tokenAddress)
    expect(info).toEqual({ address: tokenAddress, symbol: 'TEST', decimals: 18 })
    expect(formatTokenAmount(1_500_000_000_000_000_000n, info)).toBe('1.5 TEST')
  })

  it('falls back to the address and the smallest unit when the contract has neither', async () => {
    const plain = await deployTest('PlainERC721', await provider.getSigner(10))
    const nft = await tokenInfo(provider, await plain.getAddress())
    expect(nft.decimals).toBe(0) // an ERC-721 has a symbol but no decimals
    const none = await tokenInfo(provider, spender) // no code at all
    expect(none).toEqual({ address: spender, symbol: spender, decimals: 0 })
    expect(formatTokenAmount(1500n, none)).toBe(`1500 ${spender}`)
  })
})

describe('ensureAllowance', () => {
  it('refuses a balance below the price with both amounts, and sends nothing', async () => {
    const nonce = await provider.getTransactionCount(poor.address)
    const err = await ensureAllowance(poor, approval()).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InsufficientTokenBalanceError)
    expect(err).toBeInstanceOf(StillflowError)
    expect((err as InsufficientTokenBalanceError).shortMessage).toBe(
      'this wallet holds 2.0 TEST, the licence costs 3.0 TEST',
    )
    expect(await provider.getTransactionCount(poor.address)).toBe(nonce)
    expect(await allowance(poor)).toBe(0n)
  })

  it('approves exactly the price when the allowance is short, then sends nothing while it suffices', async () => {
    await mined(as(token, buyer).approve(spender, ETH)) // an allowance, but below the price
    expect(await ensureAllowance(buyer, approval(), { chainId: 31337 })).toBe(true)
    expect(await allowance(buyer)).toBe(PRICE)
    const nonce = await provider.getTransactionCount(buyer.address)
    expect(await ensureAllowance(buyer, approval())).toBe(false)
    expect(await provider.getTransactionCount(buyer.address)).toBe(nonce)
    expect(await allowance(buyer)).toBe(PRICE)
  })

  it('lets the purchase follow at once from a wallet that numbers its own transactions', async () => {
    // ethers' default 250 ms cache of identical requests: the next transaction must not reuse the
    // approval's nonce (the CLI's and the development wallet's case).
    const cached = new BrowserProvider(hre.network.provider as never)
    const wallet = HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, undefined, "m/44'/60'/0'/0/14").connect(cached)
    await mined(as(token, await provider.getSigner(10)).mint(wallet.address, PRICE))
    const first = await provider.getTransactionCount(wallet.address)
    expect(await ensureAllowance(wallet, approval())).toBe(true)
    const next = await wallet.sendTransaction({ to: spender, value: 1n })
    expect(next.nonce).toBe(first + 1)
    await expect(next.wait()).resolves.toMatchObject({ status: 1 })
    expect(await allowance(wallet)).toBe(PRICE)
    cached.destroy()
  })

  it('refuses a wallet on another chain than the quote’s before it signs', async () => {
    const nonce = await provider.getTransactionCount(buyer.address)
    await expect(
      ensureAllowance(buyer, { ...approval(), amount: (5n * ETH).toString() }, { chainId: 1 }),
    ).rejects.toThrow('the wallet is on chain 31337, the marketplace on 1')
    expect(await provider.getTransactionCount(buyer.address)).toBe(nonce)
  })
})
