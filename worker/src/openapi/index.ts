// The API's own description: every operation under /api as one OpenAPI 3.1 document (GET /api/openapi.json)
// and the self-contained reference page rendered from it (GET /api/docs). Operations are described only in
// operations/; this door serves both.
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../env'
import { openApiDocument } from './document'
import { renderReference } from './page'

export { openApiDocument } from './document'

interface Rendered {
  body: string
  etag: string
}

const rendered = new Map<'json' | 'html', Promise<Rendered>>()

/** Built once per isolate: the document is a constant, so every call answers the same bytes. */
function render(kind: 'json' | 'html'): Promise<Rendered> {
  let hit = rendered.get(kind)
  if (!hit) {
    const doc = openApiDocument()
    const body = kind === 'json' ? JSON.stringify(doc) : renderReference(doc)
    hit = crypto.subtle.digest('SHA-256', new TextEncoder().encode(body)).then((d) => ({
      body,
      etag: `"${[...new Uint8Array(d).slice(0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('')}"`,
    }))
    rendered.set(kind, hit)
  }
  return hit
}

async function serve(c: Context<AppEnv>, kind: 'json' | 'html') {
  const { body, etag } = await render(kind)
  c.header('etag', etag)
  c.header('cache-control', 'public, max-age=300')
  if (kind === 'html') {
    // Nothing but its own inline style may load: the page is self-contained by construction.
    c.header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'",
    )
    c.header('x-content-type-options', 'nosniff')
  }
  if (c.req.header('if-none-match') === etag) return c.body(null, 304)
  return c.body(body, 200, {
    'content-type': kind === 'json' ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
  })
}

/** GET /api/openapi.json and GET /api/docs. */
export const reference = new Hono<AppEnv>()
  .get('/openapi.json', (c) => serve(c, 'json'))
  .get('/docs', (c) => serve(c, 'html'))
