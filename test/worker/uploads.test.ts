// POST /api/uploads in workerd with real D1: a signed UploadIntent buys one ticket, once, and an owner
// gets a bounded number of tickets per hour (each lets its holder store bytes until garbage collection).
import { env } from 'cloudflare:workers'
import { Wallet, type HDNodeWallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import { publishDomain, uploadIntentTypes } from '../../contracts/index'
import { app } from '../../worker/src/index'

const NFT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const base = {
  ...env,
  ADDRESS_BOOK: JSON.stringify({ chainId: 31337, contracts: { DataAssetNFT: NFT } }),
  CHAIN_RPC_URL: 'http://127.0.0.1:9',
  IPFS_UPLOAD_URL: 'http://127.0.0.1:9/upload',
  UPLOAD_TICKET_KEY: `0x${'ab'.repeat(32)}`,
  UPLOAD_TICKETS_PER_HOUR: '3',
}

async function intent(signer: HDNodeWallet, size = 1000) {
  const message = {
    owner: signer.address,
    size,
    nonce: `0x${[...crypto.getRandomValues(new Uint8Array(32))].map((b) => b.toString(16).padStart(2, '0')).join('')}`,
    deadline: Math.floor(Date.now() / 1000) + 600,
  }
  return { ...message, signature: await signer.signTypedData(publishDomain(31337, NFT), uploadIntentTypes, message) }
}

async function ask(body: unknown) {
  const res = await app.request(
    '/api/uploads',
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
    base,
  )
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    body: (await res.json()) as { upload?: { ticket: string }; error?: { code: string; retryAfterSeconds?: number } },
  }
}

describe('POST /api/uploads', () => {
  it('gives a signed intent one ticket: sent again, it is refused as used', async () => {
    const signed = await intent(Wallet.createRandom())
    const first = await ask(signed)
    expect(first.status, JSON.stringify(first.body)).toBe(201)
    expect(first.body.upload?.ticket).toBeTruthy()
    const again = await ask(signed)
    expect(again.status).toBe(409)
    expect(again.body.error?.code).toBe('intent_used')
  })

  it('gives an owner at most UPLOAD_TICKETS_PER_HOUR tickets an hour, says when to come back, and not at the expense of others', async () => {
    const owner = Wallet.createRandom()
    for (let i = 0; i < 3; i++) expect((await ask(await intent(owner))).status).toBe(201)
    const fourth = await ask(await intent(owner))
    expect(fourth.status).toBe(429)
    expect(fourth.body.error?.code).toBe('too_many_uploads')
    const wait = Number(fourth.retryAfter)
    expect(wait).toBeGreaterThan(3500)
    expect(wait).toBeLessThanOrEqual(3600)
    expect(fourth.body.error?.retryAfterSeconds).toBe(wait)
    // Another owner is not held up by the first one's tickets.
    expect((await ask(await intent(Wallet.createRandom()))).status).toBe(201)
  })

  it('says an owner with a wrong EIP-55 checksum is a bad address (400), not a bad signature', async () => {
    const owner = Wallet.createRandom()
    const signed = await intent(owner)
    // Flip the case of one letter of the checksummed address: same bytes, wrong checksum.
    const at = [...signed.owner].findIndex((ch, i) => i > 1 && /[a-fA-F]/.test(ch))
    const flipped =
      signed.owner.slice(0, at) +
      (signed.owner[at] === signed.owner[at].toUpperCase()
        ? signed.owner[at].toLowerCase()
        : signed.owner[at].toUpperCase()) +
      signed.owner.slice(at + 1)
    const res = await ask({ ...signed, owner: flipped })
    expect(res.status).toBe(400)
    expect(res.body.error?.code).toBe('invalid_owner')
  })

  it('does not count refused intents against the owner', async () => {
    const owner = Wallet.createRandom()
    const forged = { ...(await intent(Wallet.createRandom())), owner: owner.address }
    for (let i = 0; i < 4; i++) expect((await ask({ ...forged, nonce: (await intent(owner)).nonce })).status).toBe(401)
    expect((await ask(await intent(owner))).status).toBe(201)
  })
})
