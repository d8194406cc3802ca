import { Wallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import { publishDomain, publishTypes } from '../../contracts/index'
import { verifyOwnerProof } from '../../tee-sim/src/enclave/owner-proof'

const NFT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const CONTENT = `0x${'ab'.repeat(32)}`
const owner = new Wallet(`0x${'11'.repeat(32)}`)
const other = new Wallet(`0x${'22'.repeat(32)}`)

async function proof(opts: { signer?: Wallet; contentHash?: string; policy?: unknown; tamper?: boolean } = {}) {
  const doc = {
    name: 'x',
    stillflow: {
      owner: owner.address,
      chainId: 31337,
      dataAssetNft: NFT,
      contentHash: opts.contentHash ?? CONTENT,
      policy: opts.policy ?? { mode: 'aggregates-only', minGroupSize: 20 },
    },
  }
  const bytes = Buffer.from(JSON.stringify(doc))
  const metadataDigest = `0x${Buffer.from(await crypto.subtle.digest('SHA-256', bytes)).toString('hex')}`
  const deadline = 2_000_000_000
  const signature = await (opts.signer ?? owner).signTypedData(publishDomain(31337, NFT), publishTypes, {
    owner: owner.address,
    contentHash: opts.contentHash ?? CONTENT,
    metadataDigest,
    deadline,
  })
  const sent = opts.tamper
    ? Buffer.from(JSON.stringify({ ...doc, stillflow: { ...doc.stillflow, policy: { mode: 'dp' } } }))
    : bytes
  return { declaration: sent.toString('base64url'), signature, deadline }
}

const expected = { chainId: 31337, contract: NFT, contentHash: CONTENT }

describe('the owner’s proof at ingest', () => {
  it('yields the policy the owner signed', async () => {
    const proven = verifyOwnerProof(await proof(), expected)
    expect(proven.owner).toBe(owner.address)
    expect(proven.policy).toEqual({ mode: 'aggregates-only', minGroupSize: 20 })
  })
  it('refuses a signature by anyone else', async () => {
    await expect(proof({ signer: other }).then((p) => verifyOwnerProof(p, expected))).rejects.toThrow(
      /not by the owner/,
    )
  })
  it('refuses a declaration altered after signing (a weaker policy swapped in)', async () => {
    await expect(proof({ tamper: true }).then((p) => verifyOwnerProof(p, expected))).rejects.toThrow(/not by the owner/)
  })
  it('refuses a declaration for other content, chain or contract', async () => {
    await expect(
      proof({ contentHash: `0x${'cd'.repeat(32)}` }).then((p) => verifyOwnerProof(p, expected)),
    ).rejects.toThrow(/another content hash/)
    await expect(proof().then((p) => verifyOwnerProof(p, { ...expected, chainId: 1 }))).rejects.toThrow(
      /another chain or contract/,
    )
  })
  it('names malformed fields', async () => {
    const p = await proof()
    expect(() => verifyOwnerProof({ ...p, signature: '0x12' }, expected)).toThrow(/publish.signature/)
    expect(() => verifyOwnerProof({ ...p, declaration: '!!' }, expected)).toThrow(/base64url/)
    expect(() => verifyOwnerProof({ ...p, deadline: -1 }, expected)).toThrow(/deadline/)
  })
})
