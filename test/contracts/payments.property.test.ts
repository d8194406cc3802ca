// Property: across any sequence of licence purchases (native and ERC-20) and withdrawals, at any fee,
// no wei and no token unit is created or lost (R10). The model is plain arithmetic over the offers.
import fc from 'fast-check'
import { ZeroAddress, type Contract, type JsonRpcSigner } from 'ethers'
import { describe, expect, it } from 'vitest'
import {
  as,
  defaultTerms,
  deployTest,
  deployWorld,
  expectRevert,
  feeOf,
  mined,
  mintAsset,
  offerOn,
  provider,
  type World,
} from './fixture'

type Action = { kind: 'buy'; buyer: number; offer: number } | { kind: 'withdraw'; account: number; currency: number }

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('buy' as const), buyer: fc.nat({ max: 2 }), offer: fc.nat({ max: 3 }) }),
  fc.record({ kind: fc.constant('withdraw' as const), account: fc.nat({ max: 4 }), currency: fc.nat({ max: 1 }) }),
)

const price = fc.oneof(fc.constant(0n), fc.bigInt({ min: 1n, max: 10n ** 18n }), fc.bigInt({ min: 1n, max: 10_000n }))

describe('DataMarket payments (property)', () => {
  it('conserve value: balances + contract holdings change only by gas, and pending balances are exactly the unpaid credits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 1_000 }),
        fc.tuple(price, price, price, price),
        fc.array(action, { minLength: 1, maxLength: 10 }),
        async (feeBps, prices, actions) => {
          const w = await deployWorld()
          const token = await deployTest('TestERC20', w.deployer)
          const tokenAddress = await token.getAddress()
          const currencies = [ZeroAddress, tokenAddress]
          await mined(as(w.market, w.admin).setPlatformFee(feeBps))
          await mined(as(w.market, w.admin).setCurrencyAllowed(tokenAddress, true))

          // Two assets of two owners, each with a native and an ERC-20 offer.
          await mintAsset(w, w.owner, 'p1')
          await mintAsset(w, w.other, 'p2')
          const offers = [
            { tokenId: 1n, owner: w.owner, currency: 0, price: prices[0] },
            { tokenId: 1n, owner: w.owner, currency: 1, price: prices[1] },
            { tokenId: 2n, owner: w.other, currency: 0, price: prices[2] },
            { tokenId: 2n, owner: w.other, currency: 1, price: prices[3] },
          ].map((o) => ({ ...o, offerId: 0n }))
          for (const o of offers) {
            o.offerId = await offerOn(
              w,
              o.owner,
              o.tokenId,
              defaultTerms({ price: o.price, currency: currencies[o.currency] }),
            )
          }
          const buyers = [w.buyer, w.stranger, w.deployer]
          for (const b of buyers) {
            await mined(as(token, b).mint(b.address, 10n ** 30n))
            await mined(as(token, b).approve(w.book.contracts.DataMarket, 10n ** 30n))
          }
          const accounts: JsonRpcSigner[] = [w.owner, w.other, w.treasury, w.buyer, w.stranger]
          const everyone = [...new Set([...accounts, ...buyers])]

          const nativeBefore = await totalNative(w, everyone)
          const tokenBefore = await totalToken(token, w, everyone)
          let gas = 0n
          const credited = new Map<string, bigint>() // `${currency}:${account}` → credited - withdrawn

          for (const a of actions) {
            if (a.kind === 'buy') {
              const o = offers[a.offer]
              const buyer = buyers[a.buyer]
              const r = await mined(
                as(w.market, buyer).buyLicence(o.tokenId, o.offerId, { value: o.currency === 0 ? o.price : 0n }),
              )
              gas += feeOf(r)
              const fee = (o.price * BigInt(feeBps)) / 10_000n
              add(credited, o.currency, w.treasury.address, fee)
              add(credited, o.currency, o.owner.address, o.price - fee)
            } else {
              const account = accounts[a.account]
              const key = `${a.currency}:${account.address}`
              const due = credited.get(key) ?? 0n
              if (due === 0n) {
                await expectRevert(
                  as(w.market, account).withdraw(currencies[a.currency]),
                  'DataMarketNothingToWithdraw',
                  [account.address, currencies[a.currency]],
                )
              } else {
                const r = await mined(as(w.market, account).withdraw(currencies[a.currency]))
                gas += feeOf(r)
                credited.set(key, 0n)
              }
            }
          }

          // Pending balances are exactly the model's unpaid credits, and they are what the market holds.
          for (const c of [0, 1]) {
            let sum = 0n
            for (const acc of everyone) {
              const pending = (await w.market.pendingWithdrawal(acc.address, currencies[c])) as bigint
              expect(pending).toBe(credited.get(`${c}:${acc.address}`) ?? 0n)
              sum += pending
            }
            const held =
              c === 0
                ? await provider.getBalance(w.book.contracts.DataMarket)
                : ((await token.balanceOf(w.book.contracts.DataMarket)) as bigint)
            expect(held).toBe(sum)
          }
          // Nothing created or lost: all parties plus the market hold what they held, less gas.
          expect(await totalNative(w, everyone)).toBe(nativeBefore - gas)
          expect(await totalToken(token, w, everyone)).toBe(tokenBefore)
        },
      ),
      { numRuns: 12, seed: 20_260_711, endOnFailure: true },
    )
  }, 120_000)
})

function add(m: Map<string, bigint>, currency: number, account: string, amount: bigint) {
  const key = `${currency}:${account}`
  m.set(key, (m.get(key) ?? 0n) + amount)
}

async function totalNative(w: World, signers: JsonRpcSigner[]): Promise<bigint> {
  let sum = await provider.getBalance(w.book.contracts.DataMarket)
  for (const s of signers) sum += await provider.getBalance(s.address)
  return sum
}

async function totalToken(token: Contract, w: World, signers: JsonRpcSigner[]): Promise<bigint> {
  let sum = (await token.balanceOf(w.book.contracts.DataMarket)) as bigint
  for (const s of signers) sum += (await token.balanceOf(s.address)) as bigint
  return sum
}
