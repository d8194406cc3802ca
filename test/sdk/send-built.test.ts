// A transaction from a wallet that cannot pay for it (sdk/src/offers.ts sendBuilt): the owner setting an
// offer from a fresh key, the buyer short of ETH. Nodes word the refusal their own way — hardhat's "Sender
// doesn't have enough funds" reached the user as ethers' "could not coalesce error" — so it becomes one
// plain InsufficientFundsError naming the wallet. Against an in-process chain.
import { describe, expect, it } from 'vitest'
import { Wallet } from 'ethers'
import { InsufficientFundsError, sendBuilt } from '../../sdk/src/index'
import { provider } from '../contracts/fixture'

describe('sendBuilt from a wallet with no ETH', () => {
  it.each([
    ['gas only', '0', /to pay for this transaction's gas; fund it/],
    ['gas and a price', '1000', /to pay for this transaction's gas and its price; fund it/],
  ])('is refused as InsufficientFundsError naming the wallet (%s), nothing sent', async (_, value, words) => {
    const wallet = Wallet.createRandom().connect(provider)
    const to = Wallet.createRandom().address
    const err = await sendBuilt(wallet, { chainId: 31337, to, data: '0x', value }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InsufficientFundsError)
    expect((err as InsufficientFundsError).shortMessage).toContain(`the wallet ${wallet.address} holds too little`)
    expect((err as InsufficientFundsError).shortMessage).toMatch(words)
    expect(await provider.getTransactionCount(wallet.address)).toBe(0)
  })
})
