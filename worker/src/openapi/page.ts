// The reference page (GET /api/docs): the OpenAPI document rendered as one self-contained HTML page.
import { STATUS_TEXT, type OpenApiDocument, type OperationObject } from './document'
import type { JsonSchema } from './schemas'

const esc = (text: unknown): string => String(text).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)

/** Escaped prose with `code` spans and paragraphs; nothing else of Markdown. */
const prose = (text: string): string =>
  text
    .split(/\n{2,}/)
    .map((p) => `<p>${esc(p).replace(/`([^`]+)`/g, '<code>$1</code>')}</p>`)
    .join('')

/** Schema JSON with its component references linked to their section. */
const schemaBlock = (schema: unknown): string =>
  `<pre>${esc(JSON.stringify(schema, null, 2)).replace(
    /&#34;#\/components\/schemas\/([A-Za-z0-9]+)&#34;/g,
    '&#34;<a href="#schema-$1">#/components/schemas/$1</a>&#34;',
  )}</pre>`

/** A schema in a few words, for parameter tables. */
function schemaLabel(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return s.enum.map(String).join(' | ')
  const type = Array.isArray(s.type) ? s.type.join(' | ') : String(s.type ?? 'any')
  const extra = [
    s.pattern ? `pattern ${s.pattern}` : '',
    s.minimum !== undefined ? `≥ ${s.minimum}` : '',
    s.maximum !== undefined ? `≤ ${s.maximum}` : '',
    s.contentMediaType ? `${s.contentEncoding ?? ''} ${s.contentMediaType}`.trim() : '',
  ].filter(Boolean)
  return extra.length ? `${type} (${extra.join(', ')})` : type
}

const anchor = (method: string, path: string) => `op-${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}`

const STYLE = `
:root{--fg:#1d2330;--muted:#5b6474;--line:#dfe3ea;--bg:#fff;--soft:#f5f7fa;--accent:#2f5fd0}
*{box-sizing:border-box}body{margin:0;font:15px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
.layout{display:grid;grid-template-columns:300px minmax(0,1fr);min-height:100vh}
nav{border-right:1px solid var(--line);background:var(--soft);padding:20px 16px;position:sticky;top:0;height:100vh;overflow:auto;font-size:13px}
nav h2{font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);margin:18px 0 6px}
nav ul{list-style:none;margin:0;padding:0}nav li{margin:2px 0}nav a{color:var(--fg);text-decoration:none}nav a:hover{color:var(--accent)}
main{padding:28px 40px;max-width:1100px;min-width:0}
h1{margin:0 0 8px;font-size:26px}h2.tag{margin:40px 0 4px;padding-top:12px;border-top:2px solid var(--line);font-size:21px;text-transform:capitalize}
section.op{border:1px solid var(--line);border-radius:8px;margin:18px 0;padding:16px 20px}
section.op h3{margin:0 0 6px;font-size:16px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;word-break:break-all}
.m{display:inline-block;min-width:54px;text-align:center;border-radius:4px;padding:1px 6px;margin-right:8px;font-size:12px;font-weight:700;color:#fff;font-family:system-ui,sans-serif}
.m-get{background:#2b8a3e}.m-post{background:#1c64c9}.m-put{background:#b35c00}
.summary{font-weight:600;margin:4px 0}.muted{color:var(--muted)}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:13px}th,td{border-bottom:1px solid var(--line);text-align:left;padding:6px 8px;vertical-align:top}
th{background:var(--soft);font-weight:600}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;background:var(--soft);padding:1px 4px;border-radius:3px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:10px;overflow:auto;font-size:12px;max-height:420px}
details{margin:6px 0}summary{cursor:pointer;color:var(--accent)}
h4{margin:14px 0 4px;font-size:13px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
.codes code{display:inline-block;margin:1px 2px}
@media (max-width:800px){.layout{display:block}nav{position:static;height:auto;border-right:0;border-bottom:1px solid var(--line)}main{padding:20px}}
`

function renderOperation(method: string, path: string, op: OperationObject): string {
  const parameters = op.parameters ?? []
  const body = op.requestBody
  const security = op.security
  const parts = [
    `<section class="op" id="${esc(anchor(method, path))}">`,
    `<h3><span class="m m-${esc(method)}">${esc(method.toUpperCase())}</span>${esc(path)}</h3>`,
    `<div class="summary">${esc(op.summary)}</div>`,
    prose(op.description),
  ]
  if (security)
    parts.push(
      `<p class="muted">Requires <code>Authorization: Bearer …</code> (${security.map((s) => Object.keys(s).map(esc).join(', ')).join('; ')}).</p>`,
    )
  if (parameters.length) {
    parts.push(
      '<h4>Parameters</h4><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th><th>description</th></tr>',
    )
    for (const p of parameters)
      parts.push(
        `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td>${esc(schemaLabel(p.schema))}</td><td>${esc(p.description)}</td></tr>`,
      )
    parts.push('</table>')
  }
  if (body) {
    parts.push(`<h4>Request body${body.required ? '' : ' (optional)'}</h4>`)
    if (body.description) parts.push(prose(body.description))
    for (const [type, { schema }] of Object.entries(body.content))
      parts.push(`<p><code>${esc(type)}</code></p>`, schemaBlock(schema))
  }
  parts.push('<h4>Responses</h4><table><tr><th>status</th><th>description</th><th>error codes</th></tr>')
  for (const [status, r] of Object.entries(op.responses)) {
    const codes = r['x-error-codes'] ?? []
    const shapes = codes.length
      ? ''
      : Object.entries(r.content ?? {})
          .map(([type, { schema }]) => `<details><summary>${esc(type)}</summary>${schemaBlock(schema)}</details>`)
          .join('')
    const description = codes.length ? (STATUS_TEXT[Number(status)] ?? 'Error') : r.description
    parts.push(
      `<tr><td><code>${esc(status)}</code></td><td>${esc(description)}${shapes}</td><td class="codes">${codes.map((c) => `<code>${esc(c)}</code>`).join(' ')}</td></tr>`,
    )
  }
  parts.push('</table></section>')
  return parts.join('\n')
}

/** The reference page: a table of contents by resource, then each operation in full. Every text escaped. */
export function renderReference(doc: OpenApiDocument): string {
  const byTag = new Map<string, Array<[string, string, OperationObject]>>(doc.tags.map((t) => [t.name, []]))
  for (const [path, methods] of Object.entries(doc.paths))
    for (const [method, op] of Object.entries(methods) as Array<[string, OperationObject]>)
      for (const tag of op.tags) (byTag.get(tag) ?? byTag.set(tag, []).get(tag)!).push([method, path, op])
  const tagText = new Map(doc.tags.map((t) => [t.name, t.description]))
  const toc = [...byTag]
    .filter(([, ops]) => ops.length)
    .map(
      ([tag, ops]) =>
        `<h2><a href="#tag-${esc(tag)}">${esc(tag)}</a></h2><ul>${ops
          .map(
            ([m, p]) =>
              `<li><a href="#${esc(anchor(m, p))}"><span class="m m-${esc(m)}">${esc(m.toUpperCase())}</span>${esc(p)}</a></li>`,
          )
          .join('')}</ul>`,
    )
    .join('\n')
  const sections = [...byTag]
    .filter(([, ops]) => ops.length)
    .map(
      ([tag, ops]) =>
        `<h2 class="tag" id="tag-${esc(tag)}">${esc(tag)}</h2><p class="muted">${esc(tagText.get(tag) ?? '')}</p>\n${ops
          .map(([m, p, op]) => renderOperation(m, p, op))
          .join('\n')}`,
    )
    .join('\n')
  const components = Object.entries(doc.components.schemas)
    .map(([name, schema]) => `<h3 id="schema-${esc(name)}"><code>${esc(name)}</code></h3>${schemaBlock(schema)}`)
    .join('\n')
  const schemes = Object.entries(doc.components.securitySchemes)
    .map(([name, s]) => `<li><code>${esc(name)}</code>: ${esc(s.scheme)} — ${prose(s.description)}</li>`)
    .join('')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)} ${esc(doc.info.version)} — reference</title><style>${STYLE}</style></head>
<body><div class="layout"><nav><strong>${esc(doc.info.title)}</strong><div class="muted">OpenAPI ${esc(doc.openapi)} · <a href="/api/openapi.json">openapi.json</a></div>
${toc}<h2><a href="#schemas">schemas</a></h2></nav>
<main><h1>${esc(doc.info.title)} <span class="muted">${esc(doc.info.version)}</span></h1>${prose(doc.info.description)}
<h4>Authentication</h4><ul>${schemes}</ul>
${sections}
<h2 class="tag" id="schemas">schemas</h2>${components}
</main></div></body></html>
`
}
