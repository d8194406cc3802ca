// After the upload, the client polls its publication (sdk/src/upload.ts finishUploaded): a marketplace
// retrying an unreachable enclave is reported to the caller once per change, and the poll ends with the
// minted result or the recorded failure. The API here is a scripted fetch; the real one is exercised in
// test/e2e/publish.test.ts.
import { describe, expect, it } from 'vitest'
import { ApiClient, ApiRequestError } from '../../sdk/src/index'
import { finishUploaded } from '../../sdk/src/upload'

const retrying = { code: 'enclave_unavailable', message: 'the enclave host is not reachable' }
const minted = { status: 'minted', tokenId: '7' }

function scripted(views: unknown[]) {
  let polls = 0
  const fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input)
    const body =
      init?.method === 'POST' && url.endsWith('/assets') ? { id: 'p1' } : views[Math.min(polls++, views.length - 1)]
    return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })
  }
  return new ApiClient({ apiUrl: 'http://api.test/api', fetch: fetch as typeof globalThis.fetch })
}

describe('finishUploaded', () => {
  it('reports a retry once per change, then returns the minted result', async () => {
    const api = scripted([
      { id: 'p1', status: 'pending', step: 'ingest' },
      { id: 'p1', status: 'pending', step: 'ingest', retrying },
      { id: 'p1', status: 'pending', step: 'ingest', retrying },
      { id: 'p1', status: 'ingested', step: 'metadata' },
      { id: 'p1', status: 'minted', step: 'mint', result: minted },
    ])
    const seen: unknown[] = []
    const result = await finishUploaded({ api, pollIntervalMs: 1 }, {}, (r) => seen.push(r))
    expect(result).toEqual(minted)
    // The first report names the publication: from then on the marketplace finishes it without the client.
    expect(seen).toEqual([{ publication: 'p1' }, { publication: 'p1', retrying }])
  })

  it('ends with the recorded failure, its status, code and step', async () => {
    const api = scripted([
      { id: 'p1', status: 'pending', step: 'ingest', retrying },
      {
        id: 'p1',
        status: 'failed',
        step: 'ingest',
        error: { code: 'enclave_unavailable', message: 'gave up', status: 502 },
      },
    ])
    const err = await finishUploaded({ api, pollIntervalMs: 1 }, {}, () => undefined).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiRequestError)
    expect(err).toMatchObject({ status: 502, code: 'enclave_unavailable', body: { error: { step: 'ingest' } } })
  })
})
