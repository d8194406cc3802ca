// What every route does with a request it cannot take, before any route logic runs: a body that is not
// declared JSON is 415, a JSON body over the route's size is 413 (both before the body is parsed), and a
// path called with a method it does not have is 405 with `Allow` — not 404, which says the path is wrong.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'

// No chain, no IPFS: every refusal here must come before either is asked.
const offline = {
  ...env,
  ADDRESS_BOOK: JSON.stringify({ chainId: 31337, contracts: { DataAssetNFT: `0x${'11'.repeat(20)}` } }),
  CHAIN_RPC_URL: 'http://127.0.0.1:9',
  IPFS_UPLOAD_URL: 'http://127.0.0.1:9/upload',
  UPLOAD_TICKET_KEY: `0x${'ab'.repeat(32)}`,
}

/** Every route that takes a JSON body, with a body of the right shape and the route's size limit. */
const JSON_ROUTES: Array<[path: string, body: unknown, maxBytes: number]> = [
  ['/api/jobs', { request: {}, signature: '0x', query: 'SELECT COUNT(*) FROM data' }, 128 * 1024],
  ['/api/offers/build', { action: 'withdraw', tokenId: '1', offerId: '1' }, 8 * 1024],
  ['/api/licences/build', { tokenId: '1', offerId: '1' }, 1024],
  ['/api/auth/login', { message: 'x', signature: '0x' }, 16 * 1024],
  ['/api/verify', { contentHash: `0x${'00'.repeat(32)}` }, 1024],
  ['/api/uploads', { owner: '0x', size: 1, nonce: '0x', deadline: 1, signature: '0x' }, 2048],
  ['/api/rpc', { jsonrpc: '2.0', id: 1, method: 'eth_chainId' }, 16 * 1024],
  ['/api/psi/sessions', { sessionId: '0x' }, 16 * 1024],
]

async function post(path: string, body: string, type?: string) {
  const res = await app.request(path, { method: 'POST', headers: type ? { 'content-type': type } : {}, body }, offline)
  const text = await res.text()
  return { status: res.status, code: (JSON.parse(text) as { error?: { code?: string } }).error?.code, text }
}

describe('JSON bodies', () => {
  it.each(JSON_ROUTES)('%s refuses a body not declared JSON with 415, naming the type to send', async (path, body) => {
    // A form (curl -d's default), fetch's default for a string body, and a file.
    for (const type of ['application/x-www-form-urlencoded', 'text/plain;charset=UTF-8', 'application/octet-stream']) {
      if (path === '/api/verify' && type === 'application/octet-stream') continue // the file itself: R15
      const res = await post(path, JSON.stringify(body), type)
      expect({ type, status: res.status, code: res.code }).toEqual({
        type,
        status: 415,
        code: 'unsupported_media_type',
      })
      expect(res.text).toContain('application/json')
    }
  })

  it.each(JSON_ROUTES)('%s refuses a JSON body over its size with 413 before parsing it', async (path, body, max) => {
    // Valid JSON of the right shape, padded past the limit: only the size is wrong.
    const padded = JSON.stringify({ ...(body as object), pad: 'x'.repeat(max) })
    const res = await post(path, padded, 'application/json')
    expect(res.status).toBe(413)
    expect(res.code).toMatch(/too_large$/)
  })

  it('takes application/json with parameters and structured +json types', async () => {
    // The refusal is about the body's fields (the route ran), not its media type.
    for (const type of ['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.api+json']) {
      const res = await post('/api/licences/build', JSON.stringify({ tokenId: '0', offerId: '1' }), type)
      expect({ type, status: res.status, code: res.code }).toEqual({ type, status: 400, code: 'invalid_purchase' })
    }
  })

  it('says a body that is declared JSON but does not parse is a 400 with the route’s own code', async () => {
    expect(await post('/api/jobs', '{"request":', 'application/json')).toMatchObject({
      status: 400,
      code: 'invalid_json',
    })
    expect(await post('/api/auth/login', 'null', 'application/json')).toMatchObject({
      status: 400,
      code: 'invalid_login',
    })
  })
})

describe('methods', () => {
  const call = (method: string, path: string) => app.request(path, { method }, offline)

  it('answers a known path called with another method with 405 and the methods it has', async () => {
    for (const [method, path, allow] of [
      ['GET', '/api/jobs', 'POST, OPTIONS'],
      ['DELETE', '/api/assets/1', 'GET, HEAD, OPTIONS'],
      ['PUT', '/api/offers/build', 'POST, OPTIONS'],
      ['POST', '/api/health', 'GET, HEAD, OPTIONS'],
    ] as const) {
      const res = await call(method, path)
      const body = (await res.json()) as { error: { code: string; message: string } }
      expect({ method, path, status: res.status, code: body.error.code }).toEqual({
        method,
        path,
        status: 405,
        code: 'method_not_allowed',
      })
      // Route order decides the order of methods; the set is what matters.
      expect(new Set(res.headers.get('allow')?.split(', '))).toEqual(new Set(allow.split(', ')))
      expect(body.error.message).toContain(method)
    }
  })

  it('answers OPTIONS on a known path with 204 and Allow, and an unknown path with 404', async () => {
    const options = await call('OPTIONS', '/api/jobs/abc')
    expect(options.status).toBe(204)
    expect(new Set(options.headers.get('allow')?.split(', '))).toEqual(new Set(['GET', 'HEAD', 'OPTIONS']))
    for (const method of ['GET', 'POST', 'OPTIONS']) {
      const res = await call(method, '/api/no-such-thing')
      expect({ method, status: res.status }).toEqual({ method, status: 404 })
      expect(res.headers.get('allow')).toBeNull()
    }
  })
})
