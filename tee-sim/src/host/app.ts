// The untrusted host's HTTP surface (Hono): health, attestation, ingest and jobs. It moves bytes in
// and out of the enclave and never logs or echoes request bodies.
import { Hono } from 'hono'
import { isHex } from '../bytes'
import { assertBuildApproved } from '../enclave/approval'
import type { Enclave } from '../enclave/enclave'
import { checkIngestParams, ingest } from '../enclave/ingest'
import { checkJobInput, runJob } from '../enclave/jobs'
import { checkJobQuery, checkMultiJobInput, runMultiJob } from '../enclave/multi-jobs'
import { isMultiJobRequest } from '../job-request'
import type { HostChain } from './chain'
import { HostRequestError, toProblem } from './errors'

export interface HostLimits {
  /** Largest JSON request body (jobs), bytes. */
  maxJsonBytes: number
  /** Largest ingest ciphertext, bytes. */
  maxIngestBytes: number
}

export const DEFAULT_LIMITS: HostLimits = { maxJsonBytes: 1 << 20, maxIngestBytes: 1 << 30 }

export interface AppDeps {
  enclave: Enclave
  chain: HostChain
  limits?: Partial<HostLimits>
  /** How the host fetches a job's ciphertext; defaults to fetch() over http(s). */
  fetchCiphertext?: (url: string) => Promise<ReadableStream<Uint8Array>>
  /** Where unexpected errors are reported once (message and name only; never bodies). */
  logError?: (message: string) => void
}

/** Reads a JSON body up to `max` bytes; 413 beyond, 415 for a non-JSON content type, 400 for bad JSON. */
export async function readJson(req: Request, max: number): Promise<unknown> {
  const type = req.headers.get('content-type') ?? ''
  if (!/^application\/json\b/i.test(type))
    throw new HostRequestError(415, 'unsupported_media_type', 'expected content-type: application/json')
  const declared = Number(req.headers.get('content-length') ?? NaN)
  if (declared > max) throw new HostRequestError(413, 'payload_too_large', `body exceeds ${max} bytes`)
  const bytes = await readLimited(req.body, max)
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw new HostRequestError(400, 'invalid_json', 'body is not valid JSON')
  }
}

async function readLimited(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0)
  const parts: Uint8Array[] = []
  let n = 0
  for await (const p of limitStream(body, max)) {
    parts.push(p)
    n += p.length
  }
  const out = new Uint8Array(n)
  let o = 0
  for (const p of parts) {
    out.set(p, o)
    o += p.length
  }
  return out
}

/** Passes a body through, failing with 413 once more than `max` bytes have arrived. */
export async function* limitStream(body: ReadableStream<Uint8Array>, max: number): AsyncGenerator<Uint8Array> {
  const reader = body.getReader()
  let n = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      n += value.length
      if (n > max) throw new HostRequestError(413, 'payload_too_large', `body exceeds ${max} bytes`)
      yield value
    }
  } finally {
    reader.releaseLock()
  }
}

export const INGEST_PARAMS_HEADER = 'x-stillflow-ingest'

function decodeParamsHeader(value: string | undefined): unknown {
  if (!value)
    throw new HostRequestError(400, 'missing_parameters', `header ${INGEST_PARAMS_HEADER} (base64url JSON) is required`)
  if (value.length > 64 * 1024 || !/^[A-Za-z0-9_-]+={0,2}$/.test(value)) {
    throw new HostRequestError(400, 'invalid_parameters', `${INGEST_PARAMS_HEADER} must be base64url-encoded JSON`)
  }
  try {
    return JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
  } catch {
    throw new HostRequestError(400, 'invalid_parameters', `${INGEST_PARAMS_HEADER} must be base64url-encoded JSON`)
  }
}

async function defaultFetchCiphertext(url: string): Promise<ReadableStream<Uint8Array>> {
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(60_000) })
  } catch (cause) {
    throw new HostRequestError(
      400,
      'ciphertext_unreachable',
      `could not fetch the ciphertext: ${(cause as Error).message}`,
    )
  }
  if (!res.ok || !res.body)
    throw new HostRequestError(400, 'ciphertext_unreachable', `ciphertext URL answered HTTP ${res.status}`)
  return res.body
}

export function createHostApp(deps: AppDeps) {
  const limits: HostLimits = { ...DEFAULT_LIMITS, ...deps.limits }
  const { enclave, chain } = deps
  const fetchCiphertext = deps.fetchCiphertext ?? defaultFetchCiphertext
  const app = new Hono()

  app.onError((err, c) => {
    const p = toProblem(err)
    if (p.unexpected) deps.logError?.(`${err.name}: ${err.message}`)
    return c.json(p.body, p.status as 400)
  })
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `no route ${c.req.method} ${c.req.path}` } }, 404))

  app.get('/health', async (c) => {
    const status = await chain.status()
    return c.json({ ok: true, ...enclave.identity, simulated: true, chain: status })
  })

  app.get('/attestation', (c) => {
    const nonce = c.req.query('nonce')
    if (!isHex(nonce, 32))
      throw new HostRequestError(400, 'invalid_nonce', 'nonce must be 0x followed by 64 hex digits (32 bytes)')
    return c.json(enclave.attest(nonce))
  })

  // Body: the chunked ciphertext (application/octet-stream), streamed into the enclave.
  // Parameters: header `x-stillflow-ingest` = base64url(JSON IngestParams).
  app.post('/ingest', async (c) => {
    const type = c.req.header('content-type') ?? ''
    if (!/^application\/octet-stream\b/i.test(type))
      throw new HostRequestError(415, 'unsupported_media_type', 'expected content-type: application/octet-stream')
    const declared = Number(c.req.header('content-length') ?? NaN)
    if (declared > limits.maxIngestBytes)
      throw new HostRequestError(413, 'payload_too_large', `ciphertext exceeds ${limits.maxIngestBytes} bytes`)
    const params = decodeParamsHeader(c.req.header(INGEST_PARAMS_HEADER))
    const body = c.req.raw.body
    if (!body) throw new HostRequestError(400, 'missing_body', 'the ciphertext body is missing')
    return c.json(await ingest(enclave, checkIngestParams(params), limitStream(body, limits.maxIngestBytes)))
  })

  const checkUrl = (url: unknown, field: string): string => {
    if (typeof url !== 'string' || !/^https?:\/\//.test(url) || url.length > 2048) {
      throw new HostRequestError(400, 'invalid_ciphertext_url', `${field} must be an http(s) URL`)
    }
    return url
  }
  const ciphertextOf = (url: string) => async () => limitStream(await fetchCiphertext(url), limits.maxIngestBytes)

  // Body: { request, signature, query, ciphertextUrl } as JSON; for a job across assets (R67) the request
  // has `parts` and the body `ciphertextUrls`, one per part. The host fetches ciphertext (e.g. from an
  // IPFS gateway) only after the enclave accepted the job; integrity is the enclave's (AEAD + content
  // hash), so the URLs need not be trusted.
  app.post('/jobs', async (c) => {
    const body = (await readJson(c.req.raw, limits.maxJsonBytes)) as Record<string, unknown>
    if (isMultiJobRequest(body?.request)) {
      const input = checkMultiJobInput(body)
      const urls = body.ciphertextUrls
      if (!Array.isArray(urls) || urls.length !== input.request.parts.length)
        throw new HostRequestError(400, 'invalid_ciphertext_url', 'ciphertextUrls must give one URL per part')
      const checked = urls.map((u, i) => checkUrl(u, `ciphertextUrls[${i}]`))
      return c.json(await runMultiJob(enclave, input, (i) => ciphertextOf(checked[i])()))
    }
    const url = checkUrl(body?.ciphertextUrl, 'ciphertextUrl')
    const input = checkJobInput(body)
    return c.json(await runJob(enclave, input, ciphertextOf(url)))
  })

  // Body: { request, query }. Plans the query against the policies and schemas sealed at ingest, with no
  // budget reserved and no data touched, so the worker can refuse a query before it queues or charges
  // anything. 200 { epsilonSpentMilli, parts? } or the refusal a job would get. The one chain read: a build
  // the supervisor retired would refuse the job at run time, so it is refused now (503
  // measurement_not_approved) rather than queued to wait for its deadline while holding a job of the quota.
  app.post('/jobs/check', async (c) => {
    const price = checkJobQuery(enclave, await readJson(c.req.raw, limits.maxJsonBytes))
    await assertBuildApproved(enclave, await enclave.chain())
    return c.json(price)
  })

  return { app, limits }
}
