// A thin typed client for the marketplace HTTP API: JSON in and out, errors as ApiRequestError.
import { ApiRequestError, ServiceUnreachableError, StillflowError } from './errors'

export interface ApiOptions {
  /** Base URL of the API, e.g. http://127.0.0.1:8787/api */
  apiUrl: string
  fetch?: typeof fetch
  /** A SIWE session token (`stillflow login`), sent as a bearer token. */
  sessionToken?: string
}

export class ApiClient {
  readonly apiUrl: string
  private readonly fetcher: typeof fetch
  sessionToken?: string

  constructor(opts: ApiOptions) {
    this.apiUrl = opts.apiUrl.replace(/\/+$/, '')
    this.fetcher = opts.fetch ?? ((input, init) => fetch(input, init))
    this.sessionToken = opts.sessionToken
  }

  /** Sends a request and returns the parsed JSON body; non-2xx answers throw ApiRequestError. */
  async request<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
    const headers = new Headers(init.headers)
    headers.set('accept', 'application/json')
    if (this.sessionToken && !headers.has('authorization')) headers.set('authorization', `Bearer ${this.sessionToken}`)
    let body = init.body
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json')
      body = JSON.stringify(init.json)
    }
    const res = await reaching('the marketplace API', this.apiUrl, () =>
      this.fetcher(`${this.apiUrl}${path}`, { ...init, headers, body }),
    )
    return readAnswer<T>(res)
  }
}

/**
 * Runs `send` (a fetch to `url`); a fetch that fails without an answer becomes a ServiceUnreachableError
 * naming the service and the system's reason (ECONNREFUSED, ENOTFOUND…) instead of undici's bare
 * "fetch failed". A caller's own abort stays as it is.
 */
export async function reaching(what: string, url: string, send: () => Promise<Response>): Promise<Response> {
  try {
    return await send()
  } catch (err) {
    if ((err as Error)?.name === 'AbortError' || (err as Error)?.name === 'TimeoutError') throw err
    const cause = (err as { cause?: { code?: string; message?: string } })?.cause
    // The request body's own failure (the file changed while it was read): the service is not at fault.
    if (cause instanceof StillflowError) throw cause
    const why = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err)
    throw new ServiceUnreachableError(`${what} at ${url} could not be reached or did not answer (${why})`, {
      cause: err,
    })
  }
}

/**
 * A marketplace answer's JSON body; a non-2xx answer (`{ error: { code, message } }` or anything else)
 * throws ApiRequestError. Also for services outside the API that answer the same way (IPFS's uploader).
 */
export async function readAnswer<T>(res: Response): Promise<T> {
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  const err = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error
  if (res.ok && (parsed !== undefined || !text)) return parsed as T
  if (!res.ok && err) throw new ApiRequestError(res.status, err.code ?? `http_${res.status}`, err.message ?? '', parsed)
  // Not an answer of the marketplace's shape: most often an URL that is not the API's (a web page).
  const page = /html/i.test(res.headers.get('content-type') ?? '') || /^\s*</.test(text)
  throw new ApiRequestError(
    res.ok ? 502 : res.status,
    res.ok ? 'not_json' : `http_${res.status}`,
    `${res.url || 'the server'} answered HTTP ${res.status} with ${page ? 'a web page' : 'something'} that is ` +
      `not the marketplace API's JSON${page ? ' — is the API URL right? It usually ends in /api' : `: ${text.slice(0, 200)}`}`,
    parsed,
  )
}
