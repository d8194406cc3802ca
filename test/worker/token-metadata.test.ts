// GET /api/metadata/:id refuses what is not a token id (400) and names a token nobody here knows (404),
// before any IPFS read; the served bytes themselves are checked against the chain in test/e2e/publish.test.ts.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'

const book = { chainId: 31337, contracts: { DataAssetNFT: '0x' + '11'.repeat(20) }, deployedAtBlock: 1 }
const base = { ...env, ADDRESS_BOOK: JSON.stringify(book), IPFS_API_URL: 'http://127.0.0.1:9' }

async function get(id: string) {
  const res = await app.request(`/api/metadata/${id}`, {}, base)
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } }
}

describe('GET /api/metadata/:id', () => {
  it.each(['abc', '01', '-1', '1.5', 'x'.repeat(300)])('refuses %s with 400 invalid_asset_id', async (id) => {
    const { status, body } = await get(id)
    expect(status).toBe(400)
    expect(body.error.code).toBe('invalid_asset_id')
    expect(body.error.message.length).toBeLessThan(200)
  })

  it('answers 404 asset_not_found for a token neither indexed nor published here', async () => {
    for (const id of ['999', '0'])
      // ids start at 1: 0 is a well-formed id no token has
      expect(await get(id)).toMatchObject({ status: 404, body: { error: { code: 'asset_not_found' } } })
  })
})
