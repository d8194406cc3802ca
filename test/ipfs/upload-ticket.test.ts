// Upload tickets (ipfs/src/upload-ticket.ts): what the uploader accepts is exactly what the worker signed,
// before its expiry, under the shared key.
import { describe, expect, it } from 'vitest'
import { openUploadTicket, parseTicketKey, signUploadTicket, UploadTicketError } from '../../ipfs/src/index'

const key = new Uint8Array(32).fill(7)
const ticket = {
  id: '0b7c2a9e-1f7d-4a57-9a43-1c1f0f7e2a11',
  cid: 'bafybeifzxzntbc2c3ljq7excgn4g3tccsxubs4bids7zsjuf4sw6auj7je',
  size: 269_393_571,
  owner: '0x976ea74026e726554db657fa54763abd0c3a0aa9',
  expiresAt: 2_000_000_000,
}
const problem = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof UploadTicketError ? e.problem : String(e)),
  )

describe('upload tickets', () => {
  it('round-trips a ticket signed with the shared key', async () => {
    expect(await openUploadTicket(key, await signUploadTicket(key, ticket), 1_999_999_999)).toEqual(ticket)
  })

  it('refuses a ticket past its expiry', async () => {
    expect(await problem(openUploadTicket(key, await signUploadTicket(key, ticket), 2_000_000_000))).toBe('expired')
  })

  it('refuses an altered payload, another key and garbage', async () => {
    const token = await signUploadTicket(key, ticket)
    const [, mac] = token.split('.')
    const bigger = Buffer.from(JSON.stringify({ ...ticket, size: ticket.size + 1 })).toString('base64url')
    expect(await problem(openUploadTicket(key, `${bigger}.${mac}`, 0))).toBe('bad_signature')
    expect(await problem(openUploadTicket(new Uint8Array(32).fill(8), token, 0))).toBe('bad_signature')
    expect(await problem(openUploadTicket(key, 'not-a-ticket', 0))).toBe('malformed')
    expect(await problem(openUploadTicket(key, `${token}.x`, 0))).toBe('malformed')
  })

  it('refuses a validly signed payload that is not a ticket', async () => {
    const token = await signUploadTicket(key, { ...ticket, size: -1 })
    expect(await problem(openUploadTicket(key, token, 0))).toBe('malformed')
    const noCid = await signUploadTicket(key, { ...ticket, cid: '' })
    expect(await problem(openUploadTicket(key, noCid, 0))).toBe('malformed')
  })

  it('round-trips a one-pass ticket, which names a size but no CID', async () => {
    const open = { ...ticket, cid: null }
    expect(await openUploadTicket(key, await signUploadTicket(key, open), 0)).toEqual(open)
  })

  it('takes keys of at least 32 bytes as base64url or 0x-hex', () => {
    expect(parseTicketKey(Buffer.from(key).toString('base64url'))).toEqual(key)
    expect(parseTicketKey(`0x${'07'.repeat(32)}`)).toEqual(key)
    expect(() => parseTicketKey('c2hvcnQ')).toThrow(/at least 32 bytes/)
    expect(() => parseTicketKey('not base64 at all!')).toThrow(/at least 32 bytes/)
  })
})
