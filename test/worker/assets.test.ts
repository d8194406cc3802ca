import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'

const NFT = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const base = {
  ...env,
  ADDRESS_BOOK: JSON.stringify({ chainId: 31337, contracts: { DataAssetNFT: NFT } }),
  CHAIN_RPC_URL: 'http://127.0.0.1:9',
}
const b64 = (s: string) => btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

function declaration(over: Record<string, unknown> = {}) {
  return {
    name: 'x',
    description: '',
    attributes: [],
    stillflow: {
      version: 'stillflow.asset/v1',
      owner: '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65',
      chainId: 31337,
      dataAssetNft: NFT,
      contentHash: `0x${'11'.repeat(32)}`,
      ciphertextCid: 'bafkreicvnvosqxggdme2g6563ysun3liopyph4lzqh3m4job7m4nx7iwuq',
      ciphertextSize: 100,
      plaintextSize: 50,
      format: 'csv',
      tags: [],
      policy: { mode: 'dp' },
      lawfulBasis: { basis: 'owned', statement: 's', personalData: false },
      ...over,
    },
  }
}

function manifest(decl: unknown, over: Record<string, unknown> = {}) {
  return b64(
    JSON.stringify({
      declaration: b64(JSON.stringify(decl)),
      signature: `0x${'22'.repeat(65)}`,
      deadline: Math.floor(Date.now() / 1000) + 3600,
      wrappedKey: `0x${'33'.repeat(80)}`,
      ...over,
    }),
  )
}

async function post(headers: Record<string, string>) {
  const res = await app.request(
    '/api/assets',
    { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...headers }, body: 'x' },
    base,
  )
  return { status: res.status, body: (await res.json()) as { error: { code: string; message: string } } }
}

describe('POST /api/assets', () => {
  describe('when the request is malformed', () => {
    it('requires an Idempotency-Key', async () => {
      expect(await post({ 'x-stillflow-manifest': manifest(declaration()) })).toMatchObject({
        status: 400,
        body: { error: { code: 'idempotency_key_required' } },
      })
    })
    it('refuses an unknown upload mode before anything else', async () => {
      expect(
        await post({
          'idempotency-key': 'k1',
          'x-stillflow-upload': 'later',
          'x-stillflow-manifest': manifest(declaration()),
        }),
      ).toMatchObject({ status: 400, body: { error: { code: 'invalid_upload_mode' } } })
    })
    it('requires the manifest header', async () => {
      expect(await post({ 'idempotency-key': 'k1' })).toMatchObject({
        status: 400,
        body: { error: { code: 'manifest_required' } },
      })
    })
    it('rejects a manifest that is not base64url JSON', async () => {
      expect(await post({ 'idempotency-key': 'k1', 'x-stillflow-manifest': '!!!' })).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_manifest' } },
      })
    })
    it('rejects a declaration whose base64url length cannot be whole bytes (was a 500 from the decoder)', async () => {
      const res = await post({
        'idempotency-key': 'k1',
        'x-stillflow-manifest': manifest(declaration(), { declaration: 'AAAAA' }),
      })
      expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_manifest' } } })
      expect(res.body.error.message).toMatch(/whole bytes/)
    })
    it('names the manifest field that is wrong', async () => {
      const res = await post({
        'idempotency-key': 'k1',
        'x-stillflow-manifest': manifest(declaration(), { wrappedKey: '0x12' }),
      })
      expect(res.status).toBe(400)
      expect(res.body.error.message).toMatch(/wrappedKey must be 0x and 80 bytes/)
    })
    it('refuses metadata for another chain or contract', async () => {
      const res = await post({ 'idempotency-key': 'k1', 'x-stillflow-manifest': manifest(declaration({ chainId: 1 })) })
      expect(res).toMatchObject({ status: 422, body: { error: { code: 'wrong_chain' } } })
    })
    it('refuses an unsupported format and a CIDv0', async () => {
      expect(
        (await post({ 'idempotency-key': 'k1', 'x-stillflow-manifest': manifest(declaration({ format: 'xlsx' })) }))
          .body.error.code,
      ).toBe('invalid_metadata')
      const v0 = await post({
        'idempotency-key': 'k1',
        'x-stillflow-manifest': manifest(
          declaration({ ciphertextCid: 'QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o' }),
        ),
      })
      expect(v0).toMatchObject({
        status: 422,
        body: { error: { code: 'invalid_metadata', message: 'stillflow.ciphertextCid must be a CIDv1 (raw leaves)' } },
      })
    })
    it('refuses a signature that is not the owner’s before reading the body, and writes nothing', async () => {
      const res = await post({ 'idempotency-key': 'k-sig', 'x-stillflow-manifest': manifest(declaration()) })
      expect(res.status).toBe(401)
      expect(res.body.error.code).toBe('invalid_signature')
      const rows = await env.DB.prepare('SELECT COUNT(*) AS n FROM publications').first<{ n: number }>()
      expect(rows?.n).toBe(0)
    })
  })
})

describe('POST /api/verify', () => {
  it('rejects a malformed content hash and an unsupported body', async () => {
    const bad = await app.request(
      '/api/verify',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"contentHash":"0x12"}' },
      base,
    )
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_content_hash')
    const text = await app.request(
      '/api/verify',
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hi' },
      base,
    )
    expect(text.status).toBe(415)
  })

  it('reads JSON declared with parameters or as a +json type, as every other JSON route does', async () => {
    for (const type of ['application/json; charset=utf-8', 'application/vnd.stillflow+json']) {
      const res = await app.request(
        '/api/verify',
        { method: 'POST', headers: { 'content-type': type }, body: '{"contentHash":"0x12"}' },
        base,
      )
      // Read as JSON and refused for its content, not for its media type.
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_content_hash')
    }
  })
})

describe('auth', () => {
  it('issues single-use nonces and refuses a login that is not EIP-4361', async () => {
    const n = await app.request('/api/auth/nonce', { method: 'POST' }, base)
    expect(n.status).toBe(200)
    expect(((await n.json()) as { nonce: string }).nonce).toMatch(/^[A-Za-z0-9]{8,}$/)
    const bad = await app.request(
      '/api/auth/login',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: 'hello', signature: '0x00' }),
      },
      base,
    )
    expect(bad.status).toBe(400)
    // A time the sign-in parser takes but Date cannot read (a leap second): 400, not a 500 at the insert.
    const leap = [
      'stillflow.test wants you to sign in with your Ethereum account:',
      '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      '',
      'Sign in',
      '',
      'URI: http://stillflow.test',
      'Version: 1',
      'Chain ID: 31337',
      'Nonce: abcdefgh12',
      'Issued At: 2026-01-01T00:00:00Z',
      'Expiration Time: 2099-12-31T23:59:60Z',
    ].join('\n')
    const res = await app.request(
      '/api/auth/login',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message: leap, signature: '0x' + '11'.repeat(65) }),
      },
      base,
    )
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /Expiration Time is not a valid time/,
    )
  })
  it('requires a session for /me and /publications', async () => {
    expect((await app.request('/api/auth/me', {}, base)).status).toBe(401)
    const res = await app.request(
      '/api/publications',
      { headers: { authorization: 'Bearer not-a-real-session-token-000' } },
      base,
    )
    expect(res.status).toBe(401)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('session_expired')
  })
})

describe('GET /api/enclave and /api/publications/:id', () => {
  it('refuses a nonce that is not 32 bytes of hex', async () => {
    for (const q of ['', '?nonce=0x12', `?nonce=${'ab'.repeat(32)}`]) {
      const res = await app.request(`/api/enclave${q}`, {}, base)
      expect(res.status).toBe(400)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_nonce')
    }
  })
  it('validates a publication id and answers 404 for an unknown one', async () => {
    const bad = await app.request('/api/publications/not-a-uuid', {}, base)
    expect(bad.status).toBe(400)
    const unknown = await app.request(`/api/publications/${crypto.randomUUID()}`, {}, base)
    expect(unknown.status).toBe(404)
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('publication_not_found')
  })
})
