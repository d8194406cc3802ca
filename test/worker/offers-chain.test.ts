// The offer and purchase routes against the chain's answers: POST /api/offers/build refuses the setOffer /
// withdrawOffer transactions DataMarket would revert (a currency it does not accept, an offer that does not
// exist or is withdrawn already) before the wallet signs; an ERC-20 offer whose token the admin disallowed
// after it was set does not sell (GET /api/offers, POST /api/licences/build); a purchase quote names the
// ERC-20 allowance the buyer must grant. The chain is a stand-in answering eth_call from DataMarket's and
// DataAssetNFT's ABIs with the contracts' read semantics (workerd runs no EVM; the hardhat-backed flows are
// in test/e2e).
import { env } from 'cloudflare:workers'
import { getAddress, Interface } from 'ethers'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { dataAssetNftAbi, dataMarketAbi, NATIVE_CURRENCY } from '../../contracts/index'
import { app } from '../../worker/src/index'

const MARKET = '0x' + '22'.repeat(20)
const NFT = '0x' + '11'.repeat(20)
const RPC = 'http://chain.test'
const book = { chainId: 31337, contracts: { DataMarket: MARKET, DataAssetNFT: NFT }, deployedAtBlock: 1 }
const base = { ...env, ADDRESS_BOOK: JSON.stringify(book), CHAIN_RPC_URL: RPC }

const ALICE = '0x' + 'a1'.repeat(20)
/** Alice's delegate on asset 1, and an account that manages nothing. */
const DELEGATE = '0x' + 'a2'.repeat(20)
const STRANGER = '0x' + 'a3'.repeat(20)
/** An ERC-20 the admin allowed, one it allowed and then disallowed, and one it never allowed. */
const TOKEN = '0x' + 'c0'.repeat(20)
const DROPPED = '0x' + 'c1'.repeat(20)
const NEVER = '0x' + 'c2'.repeat(20)
/** A plain account and an address with no code: setCurrencyAllowed cannot put either on the list. */
const WALLET = '0x' + 'b2'.repeat(20)
const NOTHING = '0x' + 'de'.repeat(20)

const market = new Interface(dataMarketAbi)
const nft = new Interface(dataAssetNftAbi)

interface ChainOffer {
  currency: string
  duration: bigint
  maxJobs: bigint
  price: bigint
  epsilonBudgetMilli: bigint
  purposes: bigint
  active: boolean
  owner: string
  tenure: bigint
}

/** What the stand-in chain holds: DataMarket's offers and allow-list, DataAssetNFT's asset facts. */
const chain = {
  allowed: new Set<string>(),
  offers: new Map<bigint, ChainOffer[]>(),
  assets: new Map<bigint, { owner: string; delegate?: string; revoked: boolean; frozen: boolean; transfers: bigint }>(),
  /** Every eth_call, as `Contract.function`. */
  calls: [] as string[],
}

function offerOf(tokenId: bigint, currency: string, price: bigint, fields: Partial<ChainOffer> = {}) {
  const list = chain.offers.get(tokenId) ?? []
  list.push({
    currency,
    duration: 86400n,
    maxJobs: 5n,
    price,
    epsilonBudgetMilli: 1000n,
    purposes: 1n,
    active: true,
    owner: ALICE,
    tenure: 0n,
    ...fields,
  })
  chain.offers.set(tokenId, list)
  return BigInt(list.length)
}

/** One eth_call's answer as the contracts give it: a result, or a revert with the custom error. */
function call(
  to: string,
  data: string,
): { result: string } | { error: { code: number; message: string; data: string } } {
  const revert = (iface: Interface, name: string, args: unknown[]) => ({
    error: { code: 3, message: `execution reverted: ${name}`, data: iface.encodeErrorResult(name, args) },
  })
  if (to.toLowerCase() === MARKET) {
    const tx = market.parseTransaction({ data })!
    chain.calls.push(`DataMarket.${tx.name}`)
    const ok = (values: unknown[]) => ({ result: market.encodeFunctionResult(tx.name, values) })
    switch (tx.name) {
      case 'offerCount':
        return ok([chain.offers.get(tx.args[0])?.length ?? 0])
      case 'offer': {
        const o = chain.offers.get(tx.args[0])?.[Number(tx.args[1]) - 1]
        return o ? ok([o]) : revert(market, 'DataMarketUnknownOffer', [tx.args[0], tx.args[1]])
      }
      case 'isCurrencyAllowed':
        return ok([chain.allowed.has(String(tx.args[0]).toLowerCase())])
      case 'platformFeeBps':
        return ok([250])
    }
  }
  if (to.toLowerCase() === NFT) {
    const tx = nft.parseTransaction({ data })!
    chain.calls.push(`DataAssetNFT.${tx.name}`)
    // Token ids run 1..totalMinted, none burned (DataAssetNFT).
    if (tx.name === 'totalMinted') return { result: nft.encodeFunctionResult('totalMinted', [chain.assets.size]) }
    const a = chain.assets.get(tx.args[0])
    if (!a) return revert(nft, 'DataAssetNFTNonexistentToken', [tx.args[0]])
    if (tx.name === 'isAssetManager') {
      const who = String(tx.args[1]).toLowerCase()
      return { result: nft.encodeFunctionResult('isAssetManager', [who === a.owner || who === a.delegate]) }
    }
    if (tx.name === 'assetInfo')
      return {
        result: nft.encodeFunctionResult('assetInfo', [
          a.owner,
          '0x' + 'cc'.repeat(32),
          a.revoked,
          a.frozen,
          a.transfers,
        ]),
      }
  }
  throw new Error(`the stand-in chain has no answer to ${to} ${data.slice(0, 10)}`)
}

beforeAll(() => {
  const realFetch = globalThis.fetch
  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.origin !== RPC) return realFetch(input, init)
    const batch = JSON.parse(String(init?.body)) as Array<{
      id: number
      method: string
      params: [{ to: string; data: string }]
    }>
    const answers = batch.map((c) => {
      if (c.method !== 'eth_call') throw new Error(`the stand-in chain does not answer ${c.method}`)
      return { jsonrpc: '2.0', id: c.id, ...call(c.params[0].to, c.params[0].data) }
    })
    return new Response(JSON.stringify(answers), { headers: { 'content-type': 'application/json' } })
  })
})
afterAll(() => vi.unstubAllGlobals())

beforeEach(() => {
  chain.allowed = new Set([TOKEN])
  chain.offers.clear()
  chain.assets.clear()
  chain.calls.length = 0
  chain.assets.set(1n, { owner: ALICE, delegate: DELEGATE, revoked: false, frozen: false, transfers: 0n })
  chain.assets.set(2n, { owner: ALICE, revoked: false, frozen: false, transfers: 0n })
  // Asset 1: 1 wei native, 5 units of TOKEN, 7 units of DROPPED (allowed when set), and a withdrawn offer.
  offerOf(1n, NATIVE_CURRENCY, 1n)
  offerOf(1n, TOKEN, 5n)
  offerOf(1n, DROPPED, 7n)
  offerOf(1n, NATIVE_CURRENCY, 9n, { active: false })
})

async function post(path: string, body: unknown) {
  const res = await app.request(
    `/api${path}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    base,
  )
  return { status: res.status, body: (await res.json()) as any }
}
const terms = { price: '1000', durationSeconds: 86400, maxJobs: 5, epsilonBudgetMilli: 1000 }
const setOffer = (currency?: string) =>
  post('/offers/build', { action: 'set', tokenId: '1', terms: { ...terms, ...(currency ? { currency } : {}) } })

describe('POST /api/offers/build', () => {
  describe('when the currency is not one the market accepts (setOffer would revert DataMarketCurrencyNotAllowed)', () => {
    it.each([
      ['a token the admin never allowed', NEVER],
      ['a token the admin disallowed', DROPPED],
      ['an ordinary wallet address', WALLET],
      ['an address with no contract', NOTHING],
    ])('refuses %s with 422 currency_not_allowed', async (_, currency) => {
      const { status, body } = await setOffer(currency)
      expect(status).toBe(422)
      expect(body.error).toMatchObject({ code: 'currency_not_allowed', currency })
      expect(body.error.message).toContain(currency)
      expect(body.error.message).toMatch(/marketplace admin decides/)
      expect(chain.calls.filter((c) => c.startsWith('DataMarket'))).toEqual(['DataMarket.isCurrencyAllowed'])
    })
  })

  it('builds setOffer in an accepted token, and in the native currency without asking the allow-list', async () => {
    const token = await setOffer(TOKEN)
    expect(token.status).toBe(200)
    expect(market.decodeFunctionData('setOffer', token.body.data)[1].currency.toLowerCase()).toBe(TOKEN)
    chain.calls.length = 0
    const native = await setOffer()
    expect(native).toMatchObject({ status: 200, body: { to: MARKET, value: '0' } })
    expect(chain.calls).not.toContain('DataMarket.isCurrencyAllowed')
  })

  describe('the asset and the sender (setOffer / withdrawOffer would revert)', () => {
    const set = (tokenId: string, from?: string) =>
      post('/offers/build', { action: 'set', tokenId, ...(from ? { from } : {}), terms })

    it('refuses an asset never minted with 404 asset_not_found', async () => {
      const { status, body } = await set('3')
      expect(status).toBe(404)
      expect(body.error).toMatchObject({ code: 'asset_not_found', message: 'no asset 3 was ever minted' })
      const withdrawn = await post('/offers/build', { action: 'withdraw', tokenId: '3', offerId: '1' })
      expect(withdrawn.body.error.code).toBe('asset_not_found')
    })

    it('refuses a new offer on a revoked or a frozen asset with 409, and still builds a withdrawal', async () => {
      chain.assets.get(1n)!.revoked = true
      expect(await set('1')).toMatchObject({ status: 409, body: { error: { code: 'asset_revoked' } } })
      chain.assets.get(1n)!.revoked = false
      chain.assets.get(1n)!.frozen = true
      const frozen = await set('1')
      expect(frozen).toMatchObject({ status: 409, body: { error: { code: 'asset_frozen' } } })
      expect(frozen.body.error.message).toMatch(/frozen by a supervisor; no offer can be set until it is unfrozen/)
      const withdraw = await post('/offers/build', { action: 'withdraw', tokenId: '1', offerId: '1', from: ALICE })
      expect(withdraw.status).toBe(200)
    })

    it('refuses a named sender who neither owns the asset nor is its delegate with 403 not_asset_manager', async () => {
      const { status, body } = await set('1', STRANGER)
      expect(status).toBe(403)
      expect(body.error).toMatchObject({ code: 'not_asset_manager', tokenId: '1', from: STRANGER })
      expect(body.error.message).toContain('neither owns asset 1 nor is its delegate')
      const withdraw = await post('/offers/build', { action: 'withdraw', tokenId: '1', offerId: '1', from: STRANGER })
      expect(withdraw).toMatchObject({ status: 403, body: { error: { code: 'not_asset_manager' } } })
    })

    it('builds for the owner and for the delegate when they are named', async () => {
      for (const from of [ALICE, getAddress(ALICE), DELEGATE]) expect((await set('1', from)).status).toBe(200)
      // Asset 2 has no delegate: Alice's delegate on asset 1 manages nothing there.
      expect((await set('2', DELEGATE)).status).toBe(403)
    })

    it('refuses a sender that is not an address with 400 invalid_offer', async () => {
      const { status, body } = await set('1', 'alice')
      expect(status).toBe(400)
      expect(body.error.message).toMatch(/from must be an address/)
    })
  })

  describe('withdraw', () => {
    const withdraw = (tokenId: string, offerId: string) =>
      post('/offers/build', { action: 'withdraw', tokenId, offerId })

    it('refuses an offer the asset does not have with 404 offer_not_found (DataMarketUnknownOffer)', async () => {
      for (const [tokenId, offerId] of [
        ['1', '5'],
        ['2', '1'],
      ]) {
        const { status, body } = await withdraw(tokenId, offerId)
        expect(status).toBe(404)
        expect(body.error).toMatchObject({
          code: 'offer_not_found',
          message: `asset ${tokenId} has no offer ${offerId}`,
        })
      }
    })

    it('refuses an offer withdrawn already with 409 offer_inactive (DataMarketOfferInactive)', async () => {
      const { status, body } = await withdraw('1', '4')
      expect(status).toBe(409)
      expect(body.error).toMatchObject({ code: 'offer_inactive', inactive: 'withdrawn' })
      expect(body.error.message).toMatch(/offer 4 of asset 1 was withdrawn already/)
    })

    it('builds withdrawOffer for an offer on the chain, whatever its currency', async () => {
      for (const id of ['1', '3']) {
        const { status, body } = await withdraw('1', id)
        expect(status).toBe(200)
        expect(market.decodeFunctionData('withdrawOffer', body.data).map(String)).toEqual(['1', id])
      }
    })
  })
})

describe('GET /api/offers', () => {
  const list = async (query = '') => {
    const res = await app.request(`/api/offers?tokenId=1${query}`, {}, base)
    return ((await res.json()) as { offers: Array<{ offerId: string; active: boolean; inactive?: string }> }).offers
  }

  it('shows an ERC-20 offer whose token the admin disallowed as not on sale; native and accepted ones sell', async () => {
    chain.allowed.add(DROPPED)
    expect((await list()).map((o) => [o.offerId, o.active])).toEqual([
      ['4', false],
      ['3', true],
      ['2', true],
      ['1', true],
    ])
    chain.allowed.delete(DROPPED)
    const offers = await list()
    expect(offers.find((o) => o.offerId === '3')).toMatchObject({ active: false, inactive: 'currency_not_allowed' })
    expect(offers.find((o) => o.offerId === '2')).toMatchObject({ active: true })
    expect(offers.find((o) => o.offerId === '1')).toMatchObject({ active: true })
    expect((await list('&active=true')).map((o) => o.offerId)).toEqual(['2', '1'])
  })

  it('answers 404 asset_not_found for an asset never minted, rather than "no offers"', async () => {
    const res = await app.request('/api/offers?tokenId=3', {}, base)
    expect(res.status).toBe(404)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('asset_not_found')
    expect(await list('&active=true')).toHaveLength(2) // asset 1 still answers
  })

  it('gives the reasons in buyLicence’s order: a frozen asset before a disallowed token', async () => {
    chain.assets.get(1n)!.frozen = true
    expect((await list()).find((o) => o.offerId === '3')).toMatchObject({ inactive: 'asset_frozen' })
  })
})

describe('POST /api/licences/build', () => {
  const buy = (offerId: string) => post('/licences/build', { tokenId: '1', offerId })

  it('refuses an ERC-20 offer whose token the admin disallowed with 409 currency_not_allowed', async () => {
    const { status, body } = await buy('3')
    expect(status).toBe(409)
    expect(body.error).toMatchObject({
      code: 'currency_not_allowed',
      inactive: 'currency_not_allowed',
      currency: getAddress(DROPPED),
    })
    expect(body.error.message).toMatch(/offer 3 of asset 1 is priced in 0xC1C1.*no longer accepts/)
  })

  it('names the allowance an ERC-20 purchase needs: the token, the market as spender, the price', async () => {
    const { status, body } = await buy('2')
    expect(status).toBe(200)
    expect(body).toMatchObject({ to: MARKET, value: '0', price: '5', currency: getAddress(TOKEN) })
    expect(body.approval).toEqual({ token: getAddress(TOKEN), spender: MARKET, amount: '5' })
  })

  it('says nothing of an allowance for a native offer, and does not ask the allow-list', async () => {
    const { status, body } = await buy('1')
    expect(status).toBe(200)
    expect(body).toMatchObject({ value: '1', price: '1', currency: NATIVE_CURRENCY })
    expect(body).not.toHaveProperty('approval')
    expect(chain.calls).not.toContain('DataMarket.isCurrencyAllowed')
  })
})
