// POST /api/offers/build, POST /api/licences/build and GET /api/offers refuse numbers the contracts cannot
// hold (IDataMarket.OfferTerms: uint128 price, uint64 duration, uint32 maxJobs, uint64 ε budget; uint256
// ids) with a 400 naming the field, before any chain access — they once reached the ABI encoder and
// answered 500.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'

const unreachableChain = { ...env, CHAIN_RPC_URL: 'http://127.0.0.1:9' }
const two = (bits: number) => (1n << BigInt(bits)).toString()
const terms = { price: '1', durationSeconds: 86400, maxJobs: 10, epsilonBudgetMilli: 1000 }

async function post(path: string, body: unknown) {
  const res = await app.request(
    `/api${path}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    unreachableChain,
  )
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } }
}

describe('offer and licence numbers the contracts cannot hold', () => {
  it.each([
    ['price', { price: two(128) }],
    ['durationSeconds', { durationSeconds: two(64) }],
    ['maxJobs', { maxJobs: Number(two(32)) }],
    ['epsilonBudgetMilli', { epsilonBudgetMilli: two(64) }],
    ['purposes', { purposes: two(32) }],
  ])('refuses a %s one past its width with 400 invalid_offer', async (field, over) => {
    const r = await post('/offers/build', { action: 'set', tokenId: '1', terms: { ...terms, ...over } })
    expect(r.status).toBe(400)
    expect(r.body.error?.code).toBe('invalid_offer')
    expect(r.body.error?.message).toContain(field)
  })

  it('says a price is in wei when given as ether ("0.01"), and a purchase body’s shape', async () => {
    const r = await post('/offers/build', { action: 'set', tokenId: '1', terms: { ...terms, price: '0.01' } })
    expect(r.status).toBe(400)
    expect(r.body.error?.message).toContain(
      'terms.price must be a whole number in decimal digits (prices in wei, not "0.01")',
    )
    const buy = await post('/licences/build', { tokenId: '1', offerId: '1', extra: 1 })
    expect(buy).toMatchObject({ status: 400, body: { error: { code: 'invalid_purchase' } } })
    expect(buy.body.error?.message).toMatch(/^the body is \{ tokenId, offerId \}.*extra/)
  })

  it('refuses ?active= other than true or false (it once listed withdrawn offers for "yes")', async () => {
    const res = await app.request('/api/offers?tokenId=1&active=yes', {}, unreachableChain)
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_active')
  })

  it('refuses a currency address with a wrong EIP-55 checksum (was a 500 from the encoder)', async () => {
    const r = await post('/offers/build', {
      action: 'set',
      tokenId: '1',
      terms: { ...terms, currency: '0x5FbDB2315678afecb367f032d93F642f64180aA3' },
    })
    expect(r.status).toBe(400)
    expect(r.body.error?.message).toMatch(/currency has a wrong EIP-55 checksum/)
  })

  it('refuses ids of 2^256 and more', async () => {
    const big = two(256)
    expect((await post('/offers/build', { action: 'set', tokenId: big, terms })).status).toBe(400)
    expect((await post('/offers/build', { action: 'withdraw', tokenId: '1', offerId: big })).status).toBe(400)
    const buy = await post('/licences/build', { tokenId: big, offerId: '1' })
    expect(buy).toMatchObject({ status: 400, body: { error: { code: 'invalid_purchase' } } })
    const list = await app.request(`/api/offers?tokenId=${big}`, {}, unreachableChain)
    expect(list.status).toBe(400)
    expect(((await list.json()) as { error: { code: string } }).error.code).toBe('invalid_asset_id')
  })

  it('lets the widest values through to the chain (which here cannot be reached)', async () => {
    const widest = {
      price: (BigInt(two(128)) - 1n).toString(),
      durationSeconds: (BigInt(two(64)) - 1n).toString(),
      maxJobs: 2 ** 32 - 1,
      epsilonBudgetMilli: (BigInt(two(64)) - 1n).toString(),
    }
    const r = await post('/offers/build', { action: 'set', tokenId: '1', terms: widest })
    expect(r.status).not.toBe(400)
    expect(r.status).toBeLessThan(600)
    expect(r.body.error?.code).not.toBe('internal')
  })
})
