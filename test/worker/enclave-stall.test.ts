// An enclave host that stops taking the ciphertext (hung, or stopped with SIGSTOP) must not hold a
// publication pending for good: the worker's ingest gives up after ENCLAVE_STALL_SECONDS with no
// progress, as an unreachable enclave, which the publish queue retries and then fails. The host here is a
// stand-in fetch that reads the body as told; the real host's ingest runs in test/e2e/publish.test.ts.
import { env } from 'cloudflare:workers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { enclaveIngest, type IngestParams } from '../../worker/src/services/enclave'

const params: IngestParams = {
  chainId: 31337,
  contract: '0x' + '11'.repeat(20),
  contentHash: '0x' + 'cc'.repeat(32),
  wrappedKey: 'key',
  format: 'csv',
  publish: { declaration: 'd', signature: '0x', deadline: 0 },
}
const settings = { ...env, ENCLAVE_URL: 'http://enclave.test', ENCLAVE_STALL_SECONDS: '1' }

/** `pieces` chunks of ciphertext, one every `everyMs`. */
function ciphertext(pieces: number, everyMs: number): ReadableStream<Uint8Array> {
  let sent = 0
  return new ReadableStream({
    async pull(c) {
      if (sent === pieces) return c.close()
      await new Promise((r) => setTimeout(r, everyMs))
      sent++
      c.enqueue(new Uint8Array(1024))
    },
  })
}

/** A host that reads `readPieces` chunks (all when undefined), then answers after `answerAfterMs` or hangs. */
function host(opts: { readPieces?: number; answerAfterMs?: number }) {
  return async (_url: RequestInfo | URL, init?: RequestInit) => {
    const signal = init!.signal!
    const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)))
    const reader = (init!.body as ReadableStream<Uint8Array>).getReader()
    for (let n = 0; opts.readPieces === undefined || n < opts.readPieces; n++) {
      const { done } = await Promise.race([reader.read(), aborted])
      if (done) break
    }
    if (opts.answerAfterMs === undefined) return aborted
    await Promise.race([new Promise((r) => setTimeout(r, opts.answerAfterMs)), aborted])
    return Response.json({ receipt: {}, signature: '0x', signer: '0x', schema: [], statistics: {}, policy: {} })
  }
}

afterEach(() => vi.unstubAllGlobals())

describe('enclaveIngest against a host that stops', () => {
  it('gives up when the host stops taking the ciphertext, as an unreachable enclave', async () => {
    vi.stubGlobal('fetch', host({ readPieces: 2 }))
    const started = Date.now()
    await expect(enclaveIngest(settings, params, ciphertext(10, 10))).rejects.toThrow(
      /the enclave host did not answer in time/,
    )
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it('gives up when the host has it all and never answers', async () => {
    vi.stubGlobal('fetch', host({}))
    await expect(enclaveIngest(settings, params, ciphertext(3, 10))).rejects.toThrow(/did not answer in time/)
  })

  it('waits as long as the ingest moves, however long it takes in all', async () => {
    vi.stubGlobal('fetch', host({ answerAfterMs: 600 }))
    // 2.5 s in all at 250 ms a piece, against a 1 s limit on a stall.
    const result = await enclaveIngest(settings, params, ciphertext(10, 250))
    expect(result).toMatchObject({ schema: [] })
  })
})
