// A file that changes while it is published (appended to, or cut short, between the size the client
// stated and the end of reading it) is refused by the client as it reads, with the SDK's own error, not
// as an unreachable uploader, and nothing is signed for it. The marketplace here is a small node:http
// server standing in for the API's ticket route and the IPFS uploader (which never answers: the upload
// must fail on the client's side); the real ones are exercised in test/e2e/publish.test.ts.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Wallet } from 'ethers'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ApiClient, InvalidPublicationError, publish, type PublishOptions } from '../../sdk/src/index'
import { nodeBackends } from '../../sdk/src/node/index'

let server: Server
let base = ''
const requests: string[] = []
/** Bytes each PUT delivered, recorded when its connection closes. */
const uploads: number[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    if (req.method === 'POST' && req.url === '/api/uploads') {
      req.resume()
      const upload = { url: `${base}/upload`, ticket: 't', size: 0, expiresAt: new Date().toISOString() }
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ upload }))
      return
    }
    if (req.method === 'PUT' && req.url === '/upload') {
      let bytes = 0
      req.on('data', (b: Buffer) => (bytes += b.length))
      req.on('error', () => undefined)
      req.on('close', () => uploads.push(bytes))
      return // never answers: only the client can end this upload
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"not_found","message":"no"}}')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

const MIB = 1 << 20
/** A source that states `size` bytes and yields `actual`, 1 MiB at a time. */
const changing = (size: number, actual: number): PublishOptions['source'] => ({
  size,
  async *open() {
    for (let at = 0; at < actual; at += MIB) yield new Uint8Array(Math.min(MIB, actual - at)).fill(0x61)
  },
})

async function publishing(source: PublishOptions['source'], upload: PublishOptions['upload']) {
  const wallet = Wallet.createRandom()
  const signed: string[] = []
  const signer = Object.assign(Object.create(wallet), {
    signTypedData: (d: unknown, types: Record<string, unknown>, v: Record<string, unknown>) => {
      signed.push(Object.keys(types)[0])
      return wallet.signTypedData(d as never, types as never, v)
    },
  }) as Wallet
  const trusted = { chainId: 31337, contracts: { DataAssetNFT: '0x' + '11'.repeat(20) } }
  const error = await publish({
    api: new ApiClient({ apiUrl: `${base}/api` }),
    signer,
    source,
    format: 'csv',
    declaration: { name: 'changing', lawfulBasis: { basis: 'owned', statement: 'x', personalData: false } },
    enclave: { trusted: trusted as never },
    upload,
    ...nodeBackends,
  }).catch((e: unknown) => e)
  return { error, signed }
}

describe('a file that changes while it is published', () => {
  for (const [what, size, actual] of [
    ['grows', 3 * MIB, 3 * MIB + 10],
    ['shrinks', 3 * MIB, 2 * MIB + 5],
    ['grows by whole chunks', 2 * MIB, 4 * MIB],
  ] as const) {
    it(`${what}: one pass refuses it as it is read and signs no Publish`, async () => {
      const before = uploads.length
      const { error, signed } = await publishing(changing(size, actual), 'stream')
      expect(error).toBeInstanceOf(InvalidPublicationError)
      expect((error as Error).message).toMatch(/the file changed while it was read/)
      expect(signed).toEqual(['UploadIntent'])
      // The client ended its upload short of a whole ciphertext (the final chunk is never sealed), whatever
      // the file did.
      await expect.poll(() => uploads.length, { timeout: 5000 }).toBe(before + 1)
      expect(uploads.at(-1)).toBeLessThan(size + 16 + Math.ceil(size / MIB) * 16)
    })

    it(`${what}: two passes refuse it before anything is signed or sent`, async () => {
      requests.length = 0
      const { error, signed } = await publishing(changing(size, actual), 'direct')
      expect(error).toBeInstanceOf(InvalidPublicationError)
      expect((error as Error).message).toMatch(/the file changed while it was read/)
      expect(signed).toEqual([])
      expect(requests).toEqual([])
    })
  }
})
