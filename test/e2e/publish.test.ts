// Publishing end to end against the processes `npm start` runs (issue 5): the CLI publishes a CSV, and a
// sweep of bad requests each gets a precise 4xx with nothing minted and nothing pinned.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { Contract, HDNodeWallet, JsonRpcProvider, Mnemonic, type Wallet } from 'ethers'
import { create } from 'kubo-rpc-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dataAssetNftAbi, publishDomain, publishTypes } from '../../contracts/index'
import {
  ApiClient,
  DECLARATION_VERSION,
  encodeDeclaration,
  kuboCidV1,
  trustEnclave,
  type Declaration,
} from '../../sdk/src/index'
import { encryptChunked, wrapDataKey } from '../../tee-sim/src/index'
import { cliRunner } from '../support/cli'
import { devWallet, freePorts, startStack, type Stack } from '../../scripts/stack'

const root = process.cwd()

const CSV =
  [
    'station,day,temp_c,rain_mm',
    ...Array.from(
      { length: 400 },
      (_, i) => `st-${i % 9},2024-01-${String((i % 28) + 1).padStart(2, '0')},${(i * 7) % 31},${i % 5}`,
    ),
  ].join('\n') + '\n'

describe('publishing', () => {
  let stack: Stack
  let dataDir: string
  let provider: JsonRpcProvider
  let api: ApiClient
  let nft: Contract

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-publish-'))
    stack = await startStack({
      root,
      dataDir,
      ports: await freePorts(),
    })
    provider = new JsonRpcProvider(stack.urls.chain, 31337, { staticNetwork: true, batchMaxCount: 1 })
    api = new ApiClient({ apiUrl: stack.urls.api })
    nft = new Contract(stack.addressBook.contracts.DataAssetNFT, dataAssetNftAbi, provider)
  })
  afterAll(async () => {
    provider?.destroy()
    await stack?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  const cli = (args: string[]) => cliRunner(root, () => stack, join(dataDir, 'cli'))(args)

  async function pins(): Promise<Set<string>> {
    const out = new Set<string>()
    for await (const p of create({ url: `${stack.urls.ipfsApi}/api/v0` }).pin.ls()) out.add(p.cid.toString())
    return out
  }

  it('publishes a CSV through the CLI: minted to the owner, metadata on IPFS, ciphertext unreadable, statistics listed, a second publish refused', async () => {
    const file = join(dataDir, 'stations.csv')
    writeFileSync(file, CSV)
    const res = await cli([
      'publish',
      file,
      '--title',
      'Station temperatures',
      '--tags',
      'weather',
      '--dev-account',
      '7',
      '--price',
      '0.01',
      '--json',
    ])
    expect(res.code, res.stderr).toBe(0)
    const out = JSON.parse(res.stdout)
    const owner = devWallet(7, provider).address
    expect(out).toMatchObject({
      status: 'minted',
      chainId: 31337,
      contentHash: `0x${bytesToHex(sha256(new TextEncoder().encode(CSV)))}`,
    })
    expect(await nft.ownerOf(out.tokenId)).toBe(owner)
    expect((await nft.tokenIdOfContent(out.contentHash)).toString()).toBe(out.tokenId)
    expect(out.offer.offerId).toBe('1')

    // The metadata resolves through the gateway and carries the enclave's signed statistics.
    const metadata = await (await fetch(`${stack.urls.ipfsGateway}/ipfs/${out.metadataCid}`)).json()
    expect(metadata.name).toBe('Station temperatures')
    expect(metadata.stillflow).toMatchObject({
      contentHash: out.contentHash,
      ciphertextCid: out.ciphertextCid,
      format: 'csv',
    })
    expect(metadata.stillflow.schema.map((c: { name: string }) => c.name)).toEqual([
      'station',
      'day',
      'temp_c',
      'rain_mm',
    ])
    expect(metadata.stillflow.ingest.signer).toMatch(/^0x[0-9a-fA-F]{40}$/)
    expect(metadata.stillflow.ingest.statistics).toBeTruthy()
    // The declaration the owner signed is the block whose digest is on chain.
    const declaration = new Uint8Array(
      await (await fetch(`${stack.urls.ipfsGateway}/ipfs/${out.declarationCid}?format=raw`)).arrayBuffer(),
    )
    expect(`0x${bytesToHex(sha256(declaration))}`).toBe(out.metadataDigest)

    // No plaintext row appears in the ciphertext IPFS holds.
    const ciphertext = Buffer.from(
      await (await fetch(`${stack.urls.ipfsGateway}/ipfs/${out.ciphertextCid}`)).arrayBuffer(),
    )
    for (const row of CSV.trim().split('\n')) expect(ciphertext.includes(Buffer.from(row))).toBe(false)
    expect((await pins()).has(out.ciphertextCid)).toBe(true)

    // The same file again: 409 with the existing token id, exit code 3.
    const again = await cli(['publish', file, '--title', 'Again', '--dev-account', '8', '--json'])
    expect(again.code).toBe(3)
    expect(JSON.parse(again.stdout).error.details.error).toMatchObject({
      code: 'already_published',
      tokenId: out.tokenId,
    })

    // The owner signs in and sees the publication.
    expect((await cli(['login', '--dev-account', '7'])).code).toBe(0)
    const mine = JSON.parse((await cli(['assets', '--json'])).stdout)
    expect(mine.publications[0]).toMatchObject({ status: 'minted', tokenId: out.tokenId })
  })

  it('answers a retried request (same Idempotency-Key) with the same asset and mints once', async () => {
    const file = join(dataDir, 'retry.csv')
    writeFileSync(file, CSV.replace('station', 'station_retry'))
    const args = ['publish', file, '--title', 'Retry', '--dev-account', '12', '--idempotency-key', 'retry-1', '--json']
    const first = await cli(args)
    expect(first.code, first.stderr).toBe(0)
    const second = await cli(args)
    expect(second.code, second.stderr).toBe(0)
    const [a, b] = [JSON.parse(first.stdout), JSON.parse(second.stdout)]
    expect(b.tokenId).toBe(a.tokenId)
    expect(b.txHash).toBe(a.txHash)
    expect((await nft.totalMinted()).toString()).toBe(a.tokenId)
  })

  it('has the enclave refuse an ingest that does not carry the owner’s signed declaration', async () => {
    // The operator is untrusted (DESIGN §1): it must not choose the policy by ingesting first.
    const params = {
      chainId: 31337,
      contract: stack.addressBook.contracts.DataAssetNFT,
      contentHash: `0x${'ee'.repeat(32)}`,
      wrappedKey: `0x${'00'.repeat(80)}`,
      format: 'csv',
      policy: { mode: 'dp' },
    }
    const res = await fetch(`${stack.urls.enclave}/ingest`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'x-stillflow-ingest': Buffer.from(JSON.stringify(params)).toString('base64url'),
      },
      body: Buffer.from('not even ciphertext'),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('owner_proof_required')
  })

  /** Builds a publish request by hand, as a buggy or malicious client might, with one thing changed. */
  async function craft(opts: {
    plaintext?: Uint8Array
    signer?: Wallet | HDNodeWallet
    owner?: string
    deadline?: number
    declaredHash?: string
    format?: string
    declaredSize?: number
    mutate?: (ciphertext: Uint8Array) => Uint8Array
    recomputeCid?: boolean
  }) {
    const signer = opts.signer ?? devWallet(9, provider)
    const plaintext =
      opts.plaintext ??
      new TextEncoder().encode(CSV.replace('station', `station_${Math.random().toString(36).slice(2, 8)}`))
    const enclave = await trustEnclave(api, { rpcUrl: stack.urls.chain })
    const key = crypto.getRandomValues(new Uint8Array(32))
    const parts: Uint8Array[] = []
    for await (const part of encryptChunked(key, [plaintext], { chunkSize: 4096 })) parts.push(part)
    const honest = Buffer.concat(parts)
    const body = opts.mutate ? opts.mutate(new Uint8Array(honest)) : honest
    const cid = await kuboCidV1(
      (async function* () {
        yield opts.recomputeCid ? body : honest
      })(),
    )
    const contentHash = opts.declaredHash ?? `0x${bytesToHex(sha256(plaintext))}`
    const owner = opts.owner ?? signer.address
    const nftAddress = stack.addressBook.contracts.DataAssetNFT
    const declaration = {
      name: 'Crafted',
      description: '',
      attributes: [],
      stillflow: {
        version: DECLARATION_VERSION,
        owner,
        chainId: 31337,
        dataAssetNft: nftAddress,
        contentHash,
        ciphertextCid: cid,
        ciphertextSize: opts.declaredSize ?? honest.length,
        plaintextSize: plaintext.length,
        format: (opts.format ?? 'csv') as 'csv',
        tags: [],
        policy: { mode: 'dp' as const },
        lawfulBasis: { basis: 'owned', statement: 'test', personalData: false },
      },
    } satisfies Declaration
    const bytes = encodeDeclaration(declaration)
    const metadataDigest = `0x${bytesToHex(sha256(bytes))}`
    const deadline = opts.deadline ?? Math.floor(Date.now() / 1000) + 3600
    const signature = await signer.signTypedData(publishDomain(31337, nftAddress), publishTypes, {
      owner,
      contentHash,
      metadataDigest,
      deadline,
    })
    const wrappedKey = await wrapDataKey(key, enclave.clusterPublicKey, {
      chainId: 31337,
      contract: nftAddress,
      contentHash,
    })
    const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url')
    const manifest = b64(
      new TextEncoder().encode(JSON.stringify({ declaration: b64(bytes), signature, deadline, wrappedKey })),
    )
    const res = await fetch(`${stack.urls.api}/assets`, {
      method: 'POST',
      headers: {
        'content-type': 'application/octet-stream',
        'idempotency-key': crypto.randomUUID(),
        'x-stillflow-manifest': manifest,
      },
      body: Buffer.from(body),
    })
    return { status: res.status, body: (await res.json()) as { error: { code: string; step?: string } }, contentHash }
  }

  const cases: Array<
    [string, Parameters<typeof craft>[0] | (() => Promise<Parameters<typeof craft>[0]>), number, string]
  > = [
    [
      'a signature by someone else',
      async () => ({ signer: devWallet(10, provider), owner: devWallet(11, provider).address }),
      401,
      'invalid_signature',
    ],
    ['an expired deadline', { deadline: Math.floor(Date.now() / 1000) - 5 }, 422, 'signature_expired'],
    ['a truncated upload', { mutate: (c) => c.subarray(0, c.length - 100) }, 422, 'ciphertext_cid_mismatch'],
    [
      'a corrupt chunk (under a matching CID)',
      { mutate: (c) => ((c[200] ^= 0xff), c), recomputeCid: true },
      422,
      'ciphertext_integrity',
    ],
    ['a content hash that is not the file’s', { declaredHash: `0x${'ab'.repeat(32)}` }, 422, 'content_hash_mismatch'],
    ['an oversized file', { declaredSize: 2 ** 31 }, 413, 'upload_too_large'],
    ['an unsupported format', { format: 'xlsx' }, 422, 'invalid_metadata'],
    [
      'bytes that are not the declared format',
      { plaintext: crypto.getRandomValues(new Uint8Array(3000)) },
      422,
      'dataset_format',
    ],
  ]

  for (const [name, opts, status, code] of cases) {
    it(`refuses ${name} with ${status} ${code}, minting and pinning nothing`, async () => {
      const before = await pins()
      const result = await craft(typeof opts === 'function' ? await opts() : opts)
      expect(result.body.error.code, JSON.stringify(result.body)).toBe(code)
      expect(result.status).toBe(status)
      expect((await nft.tokenIdOfContent(result.contentHash)).toString()).toBe('0')
      expect(await pins()).toEqual(before)
    })
  }
})
