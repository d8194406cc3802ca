// findLicences: a buyer finds what it owns from the chain alone, and a read right after a purchase sees
// the purchase even when the provider answers "latest" from a cache (the browser miss behind issue 7's
// injected-wallet test: the wallet's connect-time read and the post-purchase read shared one answer).
import hre from 'hardhat'
import { BrowserProvider } from 'ethers'
import { beforeAll, describe, expect, it } from 'vitest'
import { findLicences } from '../../sdk/src/index'
import { as, buy, defaultTerms, deployWorld, ETH, mined, mintAsset, offerOn, type World } from '../contracts/fixture'

let w: World
let tokenId: bigint
let offerId: bigint

beforeAll(async () => {
  w = await deployWorld()
  tokenId = await mintAsset(w, w.owner, 'find-licences')
  offerId = await offerOn(w, w.owner, tokenId, defaultTerms({ price: ETH, maxJobs: 2 }))
})

describe('findLicences', () => {
  it('lists the buyer’s licences for one asset, newest first, with what is left and whether each is live', async () => {
    const first = await buy(w, w.other, tokenId, offerId, ETH)
    const second = await buy(w, w.other, tokenId, offerId, ETH)
    await buy(w, w.stranger, tokenId, offerId, ETH) // someone else's: not listed
    const found = await findLicences(w.market.runner!.provider!, w.book.contracts.DataMarket, w.other.address, tokenId)
    expect(found.map((l) => l.licenceId)).toEqual([second.toString(), first.toString()])
    expect(found[0]).toMatchObject({ buyer: w.other.address, tokenId: tokenId.toString(), jobsLeft: 2, live: true })
  })

  it('sees a licence bought a moment after an identical read, when told the purchase’s block', async () => {
    // ethers shares an identical request's answer for 250 ms; widened here so the race always happens.
    const cached = new BrowserProvider(hre.network.provider as never, undefined, { cacheTimeout: 10_000 })
    const read = (seenAtBlock?: number) =>
      findLicences(cached, w.book.contracts.DataMarket, w.buyer.address, tokenId, 0, seenAtBlock)
    expect(await read()).toEqual([])
    const receipt = await mined(as(w.market, w.buyer).buyLicence(tokenId, offerId, { value: ETH }))
    expect(await read(receipt.blockNumber)).toHaveLength(1)
  })
})
