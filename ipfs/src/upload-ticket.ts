// Upload tickets: the worker's permission for one client to put one ciphertext, of one CID and size,
// into IPFS through the uploader (`PUT /upload` on the node's gateway listener), before a deadline.
//
// Large datasets do not pass through the worker (deployed Workers cap request bodies at 100–500 MB by
// plan, DESIGN §3 Publish): the worker checks the owner's signed manifest, then issues a ticket; the
// client streams the ciphertext straight to the uploader, which stores it only if the bytes hash to the
// ticket's CID; the worker then pins that CID (which proves IPFS holds the whole DAG) before ingest and
// mint. Shared by the worker (issues) and the node (checks), so WebCrypto only — no Node imports.
//
// Format: base64url(JSON payload) "." base64url(HMAC-SHA256(key, DOMAIN || payload)). The key is a
// secret the worker and the uploader share (≥ 32 bytes); the domain string keeps a ticket MAC from ever
// being valid as any other MAC made with the same key.

const DOMAIN = 'stillflow.upload-ticket/v1\n'
const MIN_KEY_BYTES = 32

export interface UploadTicket {
  /** Single use: the uploader refuses a ticket id it has seen. */
  id: string
  /**
   * The CIDv1 (raw leaves, 256 KiB chunks) the owner signed, or null for a one-pass upload: the owner
   * signed an UploadIntent for `size` bytes before the CID was known, the uploader answers with the CID
   * it computed, and the worker pins only the CID the owner then signs in the Publish manifest.
   */
  cid: string | null
  /** Exact ciphertext length in bytes. */
  size: number
  /** The owner's address (for logs and audits; the CID is what binds the content). */
  owner: string
  /** Unix seconds after which the ticket no longer starts an upload. */
  expiresAt: number
}

export type UploadTicketProblem = 'malformed' | 'bad_signature' | 'expired'

/** A ticket that does not check out; `problem` says why. */
export class UploadTicketError extends Error {
  override name = 'UploadTicketError'
  constructor(
    readonly problem: UploadTicketProblem,
    message: string,
  ) {
    super(message)
  }
}

const enc = new TextEncoder()

function base64url(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function fromBase64url(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/')
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0))
}

/** The shared secret as configured: base64url or 0x-hex, at least 32 bytes. */
export function parseTicketKey(text: string): Uint8Array {
  const t = text.trim()
  const bytes = /^0x[0-9a-fA-F]+$/.test(t)
    ? Uint8Array.from(t.slice(2).match(/../g) ?? [], (h) => parseInt(h, 16))
    : /^[A-Za-z0-9_-]+$/.test(t)
      ? fromBase64url(t)
      : new Uint8Array()
  if (bytes.length < MIN_KEY_BYTES) {
    throw new RangeError(`the upload ticket key must be base64url or 0x-hex of at least ${MIN_KEY_BYTES} bytes`)
  }
  return bytes
}

async function mac(key: Uint8Array, payload: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    'raw',
    key as Uint8Array<ArrayBuffer>,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  return new Uint8Array(await crypto.subtle.sign('HMAC', k, enc.encode(DOMAIN + payload)))
}

/** Signs a ticket. */
export async function signUploadTicket(key: Uint8Array, ticket: UploadTicket): Promise<string> {
  const payload = base64url(enc.encode(JSON.stringify(ticket)))
  return `${payload}.${base64url(await mac(key, payload))}`
}

function isTicket(x: unknown): x is UploadTicket {
  const t = x as UploadTicket
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.id === 'string' &&
    /^[A-Za-z0-9-]{8,64}$/.test(t.id) &&
    (t.cid === null || (typeof t.cid === 'string' && t.cid.length > 0 && t.cid.length <= 200)) &&
    Number.isSafeInteger(t.size) &&
    t.size > 0 &&
    typeof t.owner === 'string' &&
    Number.isSafeInteger(t.expiresAt)
  )
}

/**
 * Checks a ticket's MAC (in constant time) and expiry; single use is the uploader's to enforce.
 *
 * @throws UploadTicketError
 */
export async function openUploadTicket(key: Uint8Array, token: string, nowSeconds: number): Promise<UploadTicket> {
  const parts = token.split('.')
  if (parts.length !== 2 || !/^[A-Za-z0-9_-]+$/.test(parts[0]) || !/^[A-Za-z0-9_-]{43}$/.test(parts[1])) {
    throw new UploadTicketError('malformed', 'the upload ticket is not a Stillflow ticket')
  }
  const expected = await mac(key, parts[0])
  const given = fromBase64url(parts[1])
  let diff = 0
  for (let i = 0; i < expected.length; i++) diff |= expected[i] ^ given[i]
  if (diff !== 0) throw new UploadTicketError('bad_signature', 'the upload ticket was not issued by this marketplace')
  let ticket: unknown
  try {
    ticket = JSON.parse(new TextDecoder().decode(fromBase64url(parts[0])))
  } catch {
    throw new UploadTicketError('malformed', 'the upload ticket payload is not JSON')
  }
  if (!isTicket(ticket)) throw new UploadTicketError('malformed', 'the upload ticket payload is incomplete')
  if (ticket.expiresAt <= nowSeconds) {
    throw new UploadTicketError('expired', 'the upload ticket has expired; ask the marketplace for a new one')
  }
  return ticket
}
