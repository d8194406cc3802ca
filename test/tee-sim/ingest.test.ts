import { describe, expect, it } from 'vitest'
import { verifyIngestReceipt } from '../../tee-sim/src/ingest-receipt'
import { ingest } from '../../tee-sim/src/enclave/ingest'
import { createHostApp, INGEST_PARAMS_HEADER } from '../../tee-sim/src/host/app'
import { HostChain } from '../../tee-sim/src/host/chain'
import {
  AssetUnavailableError,
  CiphertextIntegrityError,
  ContentHashMismatchError,
  DatasetFormatError,
  InvalidInputError,
  KeyUnwrapError,
  MeasurementNotApprovedError,
  OwnerProofRequiredError,
  PolicyViolationError,
} from '../../tee-sim/src/errors'
import { CONTRACTS, bootEnclave, encryptDataset, ingestParams } from './support'

function csvRows(n: number): string {
  const lines = ['region,price,email']
  for (let i = 0; i < n; i++) lines.push(`${['north', 'south', 'east'][i % 3]},${(i % 50) + 0.5},user${i}@example.com`)
  return lines.join('\n') + '\n'
}

/** Ingest parameters with the owner's signed declaration over `extra`'s policy and binding. */
const params = async (
  d: { contentHash: string; wrappedKey: string },
  extra: {
    policy?: unknown
    chainId?: number
    format?: 'csv' | 'jsonl'
    contentHash?: string
    wrappedKey?: string
  } = {},
) =>
  ingestParams(
    { contentHash: extra.contentHash ?? d.contentHash, wrappedKey: extra.wrappedKey ?? d.wrappedKey },
    { policy: { mode: 'dp', columns: { email: { identifier: true } } }, ...extra },
  )

describe('ingest', () => {
  it('returns a signed receipt with schema, DP statistics and policy; raw values stay inside', async () => {
    const { enclave } = await bootEnclave()
    const d = await encryptDataset(csvRows(600), enclave.identity.clusterPublicKey)
    const r = await ingest(enclave, await params(d), [d.ciphertext])
    expect(
      verifyIngestReceipt(r, {
        trustedSigners: [enclave.identity.signer],
        expectedMeasurement: enclave.identity.measurement,
      }).contentHash,
    ).toBe(d.contentHash)
    expect(r.schema).toEqual([
      { name: 'region', type: 'string' },
      { name: 'price', type: 'number' },
      { name: 'email', type: 'string' },
    ])
    const stats = r.statistics as {
      noisyRowCount: number
      columns: { name: string; values?: { value: string }[]; range?: [number, number] }[]
    }
    expect(Math.abs(stats.noisyRowCount - 600)).toBeLessThan(60)
    expect(stats.columns[0].values!.map((v) => v.value).sort()).toEqual(['east', 'north', 'south'])
    // unique e-mails never pass the τ-threshold: no identifier leaks through the statistics
    expect(stats.columns[2].values).toEqual([])
    expect(JSON.stringify(r)).not.toContain('@example.com')
    // log2 bins holding ≥ τ noisy rows: the bulk of 0.5..49.5 (sparse low bins stay hidden)
    expect(stats.columns[1].range![0]).toBeLessThanOrEqual(8)
    expect(stats.columns[1].range![1]).toBeGreaterThanOrEqual(49.5)
    expect(enclave.state.assets[d.contentHash].wrappedKey).toBe(d.wrappedKey)
  })

  it('re-ingesting the same content returns the identical receipt (no averaging of fresh noise)', async () => {
    const { enclave } = await bootEnclave()
    const d = await encryptDataset(csvRows(100), enclave.identity.clusterPublicKey)
    const a = await ingest(enclave, await params(d), [d.ciphertext])
    const b = await ingest(enclave, await params(d), [new Uint8Array(0)])
    expect(b).toEqual(a)
  })

  it('detects tampered or truncated ciphertext, a wrong key and a wrong content hash', async () => {
    const { enclave } = await bootEnclave()
    const d = await encryptDataset(csvRows(300), enclave.identity.clusterPublicKey, { chunkSize: 512 })
    const t = d.ciphertext.slice()
    t[700] ^= 1
    await expect(ingest(enclave, await params(d), [t])).rejects.toThrow(CiphertextIntegrityError)
    await expect(
      ingest(enclave, await params(d), [d.ciphertext.subarray(0, d.ciphertext.length - 600)]),
    ).rejects.toThrow(CiphertextIntegrityError)
    const other = await encryptDataset(csvRows(10), enclave.identity.clusterPublicKey, { seed: 0x44 })
    await expect(ingest(enclave, await params(d, { wrappedKey: other.wrappedKey }), [d.ciphertext])).rejects.toThrow(
      KeyUnwrapError,
    )
    // a key wrapped for another content hash does not unwrap for this one, and a lie about the hash is caught
    const lie = await encryptDataset(csvRows(300), enclave.identity.clusterPublicKey, { chunkSize: 512 })
    const { wrapDataKey } = await import('../../tee-sim/src/key-release')
    const fakeHash = `0x${'12'.repeat(32)}`
    const wrapped = await wrapDataKey(new Uint8Array(32).fill(0x33), enclave.identity.clusterPublicKey, {
      chainId: 31337,
      contract: CONTRACTS.DataAssetNFT,
      contentHash: fakeHash,
    })
    await expect(
      ingest(enclave, await params(lie, { contentHash: fakeHash, wrappedKey: wrapped }), [lie.ciphertext]),
    ).rejects.toThrow(ContentHashMismatchError)
    expect(Object.keys(enclave.state.assets)).toEqual([])
  })

  it('refuses a revoked or frozen asset, another chain, bad formats and policies naming unknown columns', async () => {
    const { enclave, chain } = await bootEnclave()
    const d = await encryptDataset(csvRows(50), enclave.identity.clusterPublicKey)
    chain.assets.set(1n, {
      owner: '0x0000000000000000000000000000000000000001',
      contentHash: d.contentHash,
      revoked: true,
      frozen: false,
    })
    await expect(ingest(enclave, await params(d), [d.ciphertext])).rejects.toThrow(AssetUnavailableError)
    chain.assets.set(1n, {
      owner: '0x0000000000000000000000000000000000000001',
      contentHash: d.contentHash,
      revoked: false,
      frozen: true,
    })
    await expect(ingest(enclave, await params(d), [d.ciphertext])).rejects.toThrow(/frozen/)
    chain.assets.clear()
    await expect(ingest(enclave, await params(d, { chainId: 1 }), [d.ciphertext])).rejects.toThrow(/another chain/)
    await expect(ingest(enclave, await params(d, { format: 'jsonl' }), [d.ciphertext])).rejects.toThrow(
      DatasetFormatError,
    )
    await expect(
      ingest(enclave, await params(d, { policy: { mode: 'dp', columns: { nope: {} } } }), [d.ciphertext]),
    ).rejects.toThrow(PolicyViolationError)
    await expect(ingest(enclave, await params(d, { policy: { mode: 'open' } }), [d.ciphertext])).rejects.toThrow(
      PolicyViolationError,
    )
    for (const bad of [
      null,
      {},
      { ...(await params(d)), contentHash: '0x1' },
      { ...(await params(d)), wrappedKey: '0x00' },
      { ...(await params(d)), format: 'xlsx' },
      { ...(await params(d)), contract: 'x' },
    ]) {
      await expect(ingest(enclave, bad as never, [d.ciphertext])).rejects.toThrow(InvalidInputError)
    }
  })

  it('opens nothing while its own build is not approved in EnclaveRegistry (a retired build)', async () => {
    const { enclave, chain } = await bootEnclave()
    const d = await encryptDataset(csvRows(10), enclave.identity.clusterPublicKey)
    chain.approved.clear()
    await expect(ingest(enclave, await params(d), [d.ciphertext])).rejects.toThrow(MeasurementNotApprovedError)
    expect(enclave.state.assets[d.contentHash.toLowerCase()]).toBeUndefined()
    chain.approved.add(enclave.identity.measurement)
    await expect(ingest(enclave, await params(d), [d.ciphertext])).resolves.toMatchObject({
      receipt: { contentHash: d.contentHash.toLowerCase() },
    })
  })

  it('refuses an ingest without the owner’s signed declaration, in the enclave and over HTTP, opening nothing', async () => {
    const { enclave } = await bootEnclave()
    const d = await encryptDataset(csvRows(50), enclave.identity.clusterPublicKey)
    // The operator holds the owner's wrapped key (it passes through the API) and would pick a weak policy.
    const { publish: _, ...unsigned } = await params(d, { policy: { mode: 'aggregates-only', minGroupSize: 2 } })
    await expect(ingest(enclave, unsigned, [d.ciphertext])).rejects.toThrow(OwnerProofRequiredError)
    const { app } = createHostApp({ enclave, chain: new HostChain(undefined, undefined) })
    const res = await app.request('/ingest', {
      method: 'POST',
      body: d.ciphertext,
      headers: {
        'content-type': 'application/octet-stream',
        [INGEST_PARAMS_HEADER]: Buffer.from(JSON.stringify(unsigned)).toString('base64url'),
      },
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('owner_proof_required')
    expect(enclave.state.assets[d.contentHash.toLowerCase()]).toBeUndefined()
    // With the owner's proof, the owner's policy is the one sealed.
    const owned = await ingest(enclave, await params(d), [d.ciphertext])
    expect(owned.policy).toMatchObject({ mode: 'dp', columns: { email: { identifier: true } } })
  })

  it('refuses when the chain is down rather than guessing', async () => {
    const { enclave, chain } = await bootEnclave()
    const d = await encryptDataset(csvRows(10), enclave.identity.clusterPublicKey)
    chain.down = true
    await expect(ingest(enclave, await params(d), [d.ciphertext])).rejects.toThrow(/down/)
  })
})

describe('POST /ingest', () => {
  const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url')

  it('streams the ciphertext in and answers the signed receipt; errors are 4xx JSON', async () => {
    const { enclave } = await bootEnclave()
    const { app } = createHostApp({
      enclave,
      chain: new HostChain(undefined, undefined),
      limits: { maxIngestBytes: 200_000 },
    })
    const d = await encryptDataset(csvRows(200), enclave.identity.clusterPublicKey)
    const big = await encryptDataset(csvRows(10_000), enclave.identity.clusterPublicKey)
    const post = (body: BodyInit, headers: Record<string, string>) =>
      app.request('/ingest', { method: 'POST', body, headers })
    const ok = await post(d.ciphertext, {
      'content-type': 'application/octet-stream',
      [INGEST_PARAMS_HEADER]: b64(await params(d)),
    })
    expect(ok.status).toBe(200)
    expect((await ok.json()).receipt.contentHash).toBe(d.contentHash)

    const cases: [Record<string, string>, BodyInit, number, string][] = [
      [
        { 'content-type': 'text/csv', [INGEST_PARAMS_HEADER]: b64(await params(d)) },
        d.ciphertext,
        415,
        'unsupported_media_type',
      ],
      [{ 'content-type': 'application/octet-stream' }, d.ciphertext, 400, 'missing_parameters'],
      [
        { 'content-type': 'application/octet-stream', [INGEST_PARAMS_HEADER]: '{not base64}' },
        d.ciphertext,
        400,
        'invalid_parameters',
      ],
      [
        {
          'content-type': 'application/octet-stream',
          [INGEST_PARAMS_HEADER]: b64({ ...(await params(d)), format: 'xml' }),
        },
        d.ciphertext,
        400,
        'invalid_input',
      ],
      [
        {
          'content-type': 'application/octet-stream',
          [INGEST_PARAMS_HEADER]: b64(await params(d, { contentHash: `0x${'77'.repeat(32)}` })),
        },
        d.ciphertext,
        422,
        'key_unwrap_failed',
      ],
      [
        { 'content-type': 'application/octet-stream', [INGEST_PARAMS_HEADER]: b64(await params(big)) },
        big.ciphertext,
        413,
        'payload_too_large',
      ],
    ]
    expect(big.ciphertext.length).toBeGreaterThan(200_000)
    for (const [headers, body, status, code] of cases) {
      const res = await post(body, headers)
      expect(res.status, code).toBe(status)
      const j = await res.json()
      expect(j.error.code).toBe(code)
      expect(JSON.stringify(j)).not.toContain('@example.com')
    }
  })
})
