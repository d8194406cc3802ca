// The worker's one adapter to IPFS: the Kubo RPC protocol through kubo-rpc-client, so IPFS_API_URL can
// name the embedded node, a Kubo daemon or a pinning service without a code change.
import { create, type KuboRPCClient } from 'kubo-rpc-client'
import { CID } from 'multiformats/cid'
import { parseTicketKey, signUploadTicket } from '../../../ipfs/src/upload-ticket'
import type { Bindings } from '../env'
import { ApiError } from '../errors'
import { ConfigError, reaching, requireSetting } from './config'

/**
 * Direct uploads (ipfs/src/upload-ticket.ts): where clients PUT ciphertext, and the secret the tickets
 * are signed with, shared with that uploader. Both set (npm start does), or neither (uploads then go
 * through the worker's request body, which deployed Workers cap at 100–500 MB by plan).
 */
export interface UploadBindings {
  IPFS_UPLOAD_URL?: string
  UPLOAD_TICKET_KEY?: string
}

export function ipfsClient(env: Bindings): KuboRPCClient {
  // workerd's nodejs_compat has no http.Agent constructor; an empty agent makes the client use fetch.
  return create({ url: `${requireSetting(env, 'IPFS_API_URL')}/api/v0`, agent: {} as never })
}

export interface IpfsStatus {
  version: string
  repoSize: number
  numObjects: number
}

export async function ipfsStatus(env: Bindings): Promise<IpfsStatus> {
  const ipfs = ipfsClient(env)
  const url = requireSetting(env, 'IPFS_API_URL')
  const [version, repo] = await reaching('the IPFS API', url, () => Promise.all([ipfs.version(), ipfs.repo.stat()]))
  return { version: version.version, repoSize: Number(repo.repoSize), numObjects: Number(repo.numObjects) }
}

/** The upload went past the configured limit; nothing of it is kept. */
export class UploadTooLargeError extends Error {
  override name = 'UploadTooLargeError'
  constructor(readonly limit: number) {
    super(`the upload is larger than ${limit} bytes`)
  }
}

/**
 * Streams bytes into `ipfs add` with Kubo's CIDv1 settings (raw leaves, 256 KiB chunks) and returns
 * the root CID. This one call is made with fetch rather than kubo-rpc-client, whose browser build (the
 * one workerd loads) collects the whole upload into a Blob; the protocol is the same Kubo RPC.
 */
export async function addStream(
  env: Bindings,
  body: ReadableStream<Uint8Array>,
  maxBytes: number,
): Promise<{ cid: string; size: number }> {
  const base = requireSetting(env, 'IPFS_API_URL')
  const boundary = `stillflow-${crypto.randomUUID()}`
  const enc = new TextEncoder()
  const head = enc.encode(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="ciphertext"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  )
  const tail = enc.encode(`\r\n--${boundary}--\r\n`)
  let size = 0
  let tooLarge = false
  const reader = body.getReader()
  let sentHead = false
  const multipart = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!sentHead) {
        sentHead = true
        controller.enqueue(head)
        return
      }
      const { done, value } = await reader.read()
      if (done) {
        controller.enqueue(tail)
        controller.close()
        return
      }
      size += value.byteLength
      if (size > maxBytes) {
        tooLarge = true
        controller.error(new UploadTooLargeError(maxBytes))
        await reader.cancel()
        return
      }
      controller.enqueue(value)
    },
    cancel: (reason) => reader.cancel(reason),
  })
  const url = `${base}/api/v0/add?cid-version=1&raw-leaves=true&chunker=size-262144&pin=true&quiet=true`
  let res: Response
  try {
    res = await reaching('the IPFS API', base, () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
        body: multipart,
      }),
    )
  } catch (err) {
    if (tooLarge) throw new UploadTooLargeError(maxBytes)
    throw err
  }
  if (tooLarge) throw new UploadTooLargeError(maxBytes)
  const text = await res.text()
  if (!res.ok) throw new Error(`ipfs add answered ${res.status}: ${text.slice(0, 200)}`)
  const last = text.trim().split('\n').at(-1)
  const hash = last ? (JSON.parse(last) as { Hash?: string }).Hash : undefined
  if (!hash) throw new Error('ipfs add returned no CID')
  return { cid: hash, size }
}

/** The bytes of a file by CID, streamed from `ipfs cat`. */
export async function catStream(env: Bindings, cid: string): Promise<ReadableStream<Uint8Array>> {
  const base = requireSetting(env, 'IPFS_API_URL')
  const res = await reaching('the IPFS API', base, () =>
    fetch(`${base}/api/v0/cat?arg=${encodeURIComponent(cid)}`, { method: 'POST' }),
  )
  if (!res.ok || !res.body) throw new Error(`ipfs cat ${cid} answered ${res.status}`)
  return res.body
}

/** Adds a small document (≤ 256 KiB) as one raw block and returns its CIDv1. */
export async function addSmall(env: Bindings, bytes: Uint8Array): Promise<string> {
  const { cid } = await ipfsClient(env).add(bytes, { cidVersion: 1, rawLeaves: true, pin: true })
  return cid.toString()
}

/** Removes a pin; a CID that is not pinned is not an error (undo steps may run twice). */
export async function unpin(env: Bindings, cid: string): Promise<void> {
  try {
    await ipfsClient(env).pin.rm(cid)
  } catch (err) {
    if (!/not pinned|is not pinned/i.test(String((err as Error).message))) throw err
  }
}

/** How long a ticket may start an upload: enough to begin, not to hoard (the upload itself may run longer). */
const TICKET_TTL_S = 10 * 60

export interface DirectUpload {
  /** PUT the ciphertext here with the ticket in `x-stillflow-ticket`. */
  url: string
  ticket: string
  size: number
  expiresAt: string
}

/** The largest ciphertext this deployment takes, in bytes (MAX_UPLOAD_BYTES, default 1 GiB). */
export function maxUploadBytes(env: Bindings): number {
  return Number(env.MAX_UPLOAD_BYTES ?? 1 << 30)
}

/** Whether this deployment offers direct uploads (both settings present). */
export function directUploadsOffered(env: Bindings): boolean {
  const e = env as Bindings & UploadBindings
  return Boolean(e.IPFS_UPLOAD_URL && e.UPLOAD_TICKET_KEY)
}

/** 422 `direct_upload_unavailable` unless this deployment offers direct uploads (clients fall back). */
export function requireDirectUploads(env: Bindings): void {
  if (!directUploadsOffered(env)) {
    throw new ApiError(
      422,
      'direct_upload_unavailable',
      'this marketplace takes the ciphertext in the request body (no IPFS_UPLOAD_URL configured)',
    )
  }
}

/**
 * Issues a single-use ticket for exactly `size` bytes hashing to `cid` (any bytes when `cid` is null: a
 * one-pass upload), from `owner`. `id` (default random) is what the uploader spends; `notAfter` caps the
 * expiry (an UploadIntent's deadline).
 */
export async function issueUploadTicket(
  env: Bindings,
  t: { cid: string | null; size: number; owner: string; id?: string; notAfter?: number },
): Promise<DirectUpload> {
  const e = env as Bindings & UploadBindings
  let key: Uint8Array
  try {
    key = parseTicketKey(e.UPLOAD_TICKET_KEY ?? '')
  } catch (err) {
    throw new ConfigError('UPLOAD_TICKET_KEY', (err as Error).message)
  }
  const expiresAt = Math.min(Math.floor(Date.now() / 1000) + TICKET_TTL_S, t.notAfter ?? Infinity)
  const ticket = await signUploadTicket(key, {
    id: t.id ?? crypto.randomUUID(),
    cid: t.cid,
    size: t.size,
    owner: t.owner,
    expiresAt,
  })
  return {
    url: e.IPFS_UPLOAD_URL!,
    ticket,
    size: t.size,
    expiresAt: new Date(expiresAt * 1000).toISOString(),
  }
}

/** IPFS does not hold the whole DAG of a CID the worker was asked to pin. */
export class ContentMissingError extends Error {
  override name = 'ContentMissingError'
}

/**
 * Pins `cid` recursively. Pinning walks the whole DAG, so success proves IPFS holds every block of it;
 * an offline node (the embedded one) refuses at once when a block is missing. A networked Kubo would
 * go looking for missing blocks, hence the time limit.
 */
export async function pinExisting(env: Bindings, cid: string, timeoutMs = 120_000): Promise<void> {
  try {
    await ipfsClient(env).pin.add(CID.parse(cid), { recursive: true, signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    const message = String((err as Error).message)
    if (/not found|could not find|timeout|aborted/i.test(message)) throw new ContentMissingError(message)
    throw err
  }
}
