// The API's description cannot drift from the API: the OpenAPI document lists exactly the operations the
// app routes (so a new route without a description fails here), and the reference page shows every path.
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'

interface Doc {
  openapi: string
  info: { title: string; version: string }
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> }
}
interface Operation {
  operationId: string
  summary: string
  description: string
  parameters?: Array<{ name: string; in: string; required?: boolean }>
  requestBody?: { content: Record<string, { schema: unknown }> }
  responses: Record<string, { description: string; 'x-error-codes'?: string[] }>
  security?: Array<Record<string, string[]>>
}

/** Every (METHOD path) the app answers, in OpenAPI's path syntax; middleware (ALL) answers none. */
const routed = () =>
  new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`))

const documented = (doc: Doc) =>
  new Set(Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)))

async function fetchDoc(): Promise<{ res: Response; doc: Doc }> {
  const res = await app.request('/api/openapi.json', {}, env)
  return { res, doc: (await res.json()) as Doc }
}

describe('GET /api/openapi.json', () => {
  it('is an OpenAPI 3.1 document', async () => {
    const { res, doc } = await fetchDoc()
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/)
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) })
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0)
  })

  it('describes exactly the operations the app routes', async () => {
    const { doc } = await fetchDoc()
    const routes = routed()
    // The router itself is the reference; a sanity check that it was read at all.
    expect(routes).toContain('POST /api/jobs')
    expect(routes).toContain('GET /api/audit/events/{txHash}/{logIndex}')
    const missing = [...routes].filter((r) => !documented(doc).has(r))
    const extra = [...documented(doc)].filter((r) => !routes.has(r))
    expect({ missing, extra }).toEqual({ missing: [], extra: [] })
  })

  it('gives every operation a summary, a description, its path parameters and its 4xx codes', async () => {
    const { doc } = await fetchDoc()
    const ids = new Set<string>()
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`
        expect(op.summary, where).toMatch(/\S/)
        expect(op.description, where).toMatch(/\S/)
        expect(ids.has(op.operationId), `${where}: operationId ${op.operationId} twice`).toBe(false)
        ids.add(op.operationId)
        const declared = (op.parameters ?? []).filter((p) => p.in === 'path' && p.required).map((p) => p.name)
        const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])
        expect(declared.sort(), where).toEqual(templated.sort())
        const statuses = Object.keys(op.responses).map(Number)
        expect(
          statuses.some((s) => s >= 200 && s < 300),
          `${where} has a success response`,
        ).toBe(true)
        for (const [status, r] of Object.entries(op.responses)) {
          if (Number(status) < 400) continue
          // An error response names its codes (a 503 health report is the one that is not an error body).
          if (status === '503' && path === '/api/health') continue
          expect(r['x-error-codes']?.length, `${where} ${status} names its codes`).toBeGreaterThan(0)
        }
        for (const scheme of op.security ?? [])
          for (const name of Object.keys(scheme)) expect(doc.components.securitySchemes, where).toHaveProperty(name)
      }
  })

  it('lists the 4xx codes routes are known to answer', async () => {
    const { doc } = await fetchDoc()
    const codes = (method: string, path: string, status: number) =>
      doc.paths[path][method].responses[String(status)]?.['x-error-codes']
    expect(codes('get', '/api/assets/{id}', 404)).toContain('asset_not_found')
    expect(codes('post', '/api/jobs', 429)).toEqual(expect.arrayContaining(['quota_exhausted', 'budget_exhausted']))
    expect(codes('post', '/api/offers/build', 415)).toEqual(['unsupported_media_type'])
    expect(codes('get', '/api/auth/me', 401)).toEqual(['session_required', 'session_expired'])
    expect(doc.paths['/api/auth/me'].get.security).toEqual([{ siwe: [] }])
  })

  it('describes the offer refusals, the currency lapse and an ERC-20 purchase’s approval', async () => {
    const { doc } = await fetchDoc()
    const responses = (method: string, path: string) => doc.paths[path][method].responses
    const build = responses('post', '/api/offers/build')
    expect(build['403']['x-error-codes']).toEqual(['not_asset_manager'])
    expect(build['404']['x-error-codes']).toEqual(['asset_not_found', 'offer_not_found'])
    expect(build['409']['x-error-codes']).toEqual(['asset_revoked', 'asset_frozen', 'offer_inactive'])
    expect(build['422']['x-error-codes']).toContain('currency_not_allowed')
    const buy = responses('post', '/api/licences/build')
    expect(buy['409']['x-error-codes']).toContain('currency_not_allowed')
    type Obj = { properties: Record<string, Obj & { enum?: string[] }>; required: string[] }
    const quote = (buy['200'] as unknown as { content: Record<string, { schema: Obj }> }).content['application/json']
      .schema
    expect(quote.required).not.toContain('approval')
    expect(quote.properties.approval.required.sort()).toEqual(['amount', 'spender', 'token'])
    const offer = doc.components.schemas.Offer as Obj
    expect(offer.properties.inactive.enum).toContain('currency_not_allowed')
  })

  it('takes request bodies from the routes’ zod schemas', async () => {
    const { doc } = await fetchDoc()
    const intent = doc.components.schemas.UploadIntent as { required: string[]; additionalProperties: boolean }
    expect(intent.required.sort()).toEqual(['deadline', 'nonce', 'owner', 'signature', 'size'])
    expect(intent.additionalProperties).toBe(false)
    // The offer's defaulted fields are optional to send, and a bigint default reads as a decimal string.
    type Terms = { required: string[]; properties: Record<string, { default?: unknown }> }
    const set = (doc.components.schemas.OfferBuild as { oneOf: Array<{ properties: { terms: Terms } }> }).oneOf[0]
    expect(set.properties.terms.required).not.toContain('purposes')
    expect(set.properties.terms.properties.purposes.default).toBe('4294967295')
  })

  it('answers the same bytes every time, and 304 to its ETag', async () => {
    const a = await app.request('/api/openapi.json', {}, env)
    const b = await app.request('/api/openapi.json', {}, env)
    const etag = a.headers.get('etag')
    expect(etag).toMatch(/^"[0-9a-f]+"$/)
    expect(await a.text()).toBe(await b.text())
    expect(b.headers.get('etag')).toBe(etag)
    const again = await app.request('/api/openapi.json', { headers: { 'if-none-match': etag! } }, env)
    expect(again.status).toBe(304)
  })
})

describe('GET /api/docs', () => {
  it('is a self-contained HTML page showing every path', async () => {
    const res = await app.request('/api/docs', {}, env)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    const html = await res.text()
    expect(html).toMatch(/^<!doctype html>/i)
    const { doc } = await fetchDoc()
    for (const path of Object.keys(doc.paths)) expect(html, path).toContain(path)
    const esc = (t: string) => t.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
    for (const [path, ops] of Object.entries(doc.paths))
      for (const op of Object.values(ops)) expect(html, path).toContain(esc(op.summary))
    // Offline deployments: no script, stylesheet link, font or image from anywhere.
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i)
    expect(html).not.toMatch(/(src|href)="https?:/i)
  })

  it('escapes the text it shows', async () => {
    const html = await (await app.request('/api/docs', {}, env)).text()
    // Descriptions hold quotes and arrows (`—owns→`, `{ error: … }`); none may reach the page raw.
    expect(html).toContain('&#34;error&#34;')
    expect(html).not.toMatch(
      /<(?!\/?(html|head|body|meta|title|style|div|nav|main|h[1-4]|p|ul|li|a|span|section|table|tr|th|td|code|pre|details|summary|strong)\b)[a-z]/i,
    )
  })
})
