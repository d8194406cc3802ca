// What the client makes of an answer that is not the marketplace's JSON: an API URL missing its /api
// lands on the site, whose pages are HTML — the error must say so, not print the page.
import { describe, expect, it } from 'vitest'
import { ApiClient, ApiRequestError } from '../../sdk/src/index'

function answering(status: number, body: string, type: string) {
  const fetch = async (input: RequestInfo | URL) => {
    const res = new Response(body, { status, headers: { 'content-type': type } })
    Object.defineProperty(res, 'url', { value: String(input) })
    return res
  }
  return new ApiClient({ apiUrl: 'http://127.0.0.1:8787', fetch: fetch as typeof globalThis.fetch })
}

const page = '<!DOCTYPE html><html lang="en"><head><title>Page not found · Stillflow</title></head></html>'

describe('ApiClient answers', () => {
  it('names a web page where the API was expected, with a hint, and without the page', async () => {
    for (const status of [404, 200]) {
      const err = await answering(status, page, 'text/html; charset=utf-8')
        .request('/auth/nonce', { method: 'POST' })
        .catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ApiRequestError)
      expect((err as ApiRequestError).shortMessage).toBe(
        `http://127.0.0.1:8787/auth/nonce answered HTTP ${status} with a web page that is not the marketplace API's JSON — is the API URL right? It usually ends in /api`,
      )
      expect((err as ApiRequestError).message).not.toContain('DOCTYPE')
      expect((err as ApiRequestError).code).toBe(status === 200 ? 'not_json' : 'http_404')
    }
  })

  it('keeps the marketplace’s own refusal as it is, and reads JSON and empty answers', async () => {
    const refusal = JSON.stringify({ error: { code: 'asset_not_found', message: 'no asset 9' } })
    const err = await answering(404, refusal, 'application/json')
      .request('/assets/9')
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ status: 404, code: 'asset_not_found', shortMessage: 'no asset 9' })
    expect(await answering(200, '{"ok":true}', 'application/json').request('/health')).toEqual({ ok: true })
    expect(await answering(200, '', 'application/json').request('/auth/logout')).toBeUndefined()
  })

  it('shows the start of a non-JSON answer that is not a page', async () => {
    const err = await answering(502, 'upstream connect error', 'text/plain')
      .request('/health')
      .catch((e: unknown) => e)
    expect((err as ApiRequestError).shortMessage).toMatch(
      /answered HTTP 502 with something that is not the marketplace API's JSON: upstream connect error$/,
    )
  })
})
