// /api/psi/sessions inside workerd: consent, relays, the comparison, results only to each party,
// replay and expiry — with real signatures and the portable (pure-JS) party engine.
import { env } from 'cloudflare:workers'
import { Wallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'
import {
  PsiSessionClient,
  PsiSessionError,
  portableEngine,
  signPsiRequest,
  type RandomBytes,
} from '../../sdk/src/psi/index'

const CHAIN = 31337
const alice = new Wallet('0x' + '11'.repeat(32))
const bob = new Wallet('0x' + '22'.repeat(32))
const mallory = new Wallet('0x' + '33'.repeat(32))

// Requests go to the app in-process, with the real PSI_SESSIONS Durable Object namespace.
const inProcess: typeof fetch = (input, init) =>
  Promise.resolve(app.request(String(input).replace('http://worker', ''), init as RequestInit, env))

let counter = 0
const random: RandomBytes = (n) => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (counter * 131 + i * 7 + 1) & 0xff
  counter++
  return out
}

const client = (signer: Wallet) => new PsiSessionClient({ api: 'http://worker/api', signer, fetch: inProcess, random })
const now = () => Math.floor(Date.now() / 1000)

async function openSession(maxElements = 100, lifetime = 600) {
  const a = client(alice)
  const b = client(bob)
  const sessionId = a.newSessionId()
  const { transport: ta } = await a.create({
    sessionId,
    chainId: CHAIN,
    partyA: alice.address,
    partyB: bob.address,
    maxElements,
    expiresAt: now() + lifetime,
    role: 'A',
  })
  const { session, transport: tb } = await b.join(sessionId, 'B')
  return { a, b, sessionId, ta, tb, session }
}

describe('PSI sessions', () => {
  describe('when both parties consent and run the protocol', () => {
    it('gives each party its own matches, and the status shows no sizes', async () => {
      const { a, b, sessionId, ta, tb, session } = await openSession()
      expect(session).toMatchObject({ state: 'exchanging', joined: { A: true, B: true } })
      const itemsA = ['ann', 'bea', 'cy', 'dan', 'bea']
      const itemsB = ['dan', 'eve', 'ann', 'fay']
      const [ra, rb] = await Promise.all([
        a.run({ sessionId, role: 'A', transport: ta, items: itemsA, engine: portableEngine, pollMs: 20 }),
        b.run({ sessionId, role: 'B', transport: tb, items: itemsB, engine: portableEngine, pollMs: 20 }),
      ])
      expect(ra.values.sort()).toEqual(['ann', 'dan'])
      expect(rb.values.sort()).toEqual(['ann', 'dan'])
      expect(ra.intersectionSize).toBe(2)
      expect(ra.transcriptHash).toMatch(/^0x[0-9a-f]{64}$/)
      expect(rb.transcriptHash).toBe(ra.transcriptHash)
      expect(ra.sizes).toEqual({ A: 4, B: 4 })
      const status = await a.describe(sessionId)
      expect(status.state).toBe('done')
      expect(JSON.stringify(status)).not.toMatch(/intersection|positions|transcript/)
    })
  })

  describe('consent', () => {
    it('refuses a participation signed by someone other than the named party', async () => {
      const m = client(mallory)
      const sessionId = m.newSessionId()
      await expect(
        m.create({
          sessionId,
          chainId: CHAIN,
          partyA: alice.address,
          partyB: bob.address,
          maxElements: 10,
          expiresAt: now() + 60,
          role: 'A',
        }),
      ).rejects.toMatchObject({ status: 403, code: 'psi_not_a_party' })
    })

    it('refuses a second creation, a double join, and a third party joining', async () => {
      const { a, sessionId } = await openSession()
      await expect(
        a.create({
          sessionId,
          chainId: CHAIN,
          partyA: alice.address,
          partyB: bob.address,
          maxElements: 10,
          expiresAt: now() + 60,
          role: 'A',
        }),
      ).rejects.toMatchObject({ status: 409, code: 'psi_session_exists' })
      await expect(client(bob).join(sessionId, 'B')).rejects.toMatchObject({ status: 409, code: 'psi_already_joined' })
      await expect(client(mallory).join(sessionId, 'B')).rejects.toThrow(/not party B/)
    })

    it('refuses malformed sessions: sizes, expiry, addresses, ids', async () => {
      const base = {
        sessionId: '0x' + '5a'.repeat(32),
        chainId: CHAIN,
        partyA: alice.address,
        partyB: bob.address,
        maxElements: 10,
        expiresAt: now() + 60,
        role: 'A',
        transportKey: '0x' + '01'.repeat(32),
        signature: '0x',
      }
      const post = (body: unknown) =>
        app.request('/api/psi/sessions', { method: 'POST', body: JSON.stringify(body) }, env)
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ maxElements: 0 }, 400, 'psi_bad_max_elements'],
        [{ maxElements: 10_000_000 }, 400, 'psi_bad_max_elements'],
        [{ expiresAt: now() - 1 }, 400, 'psi_bad_expiry'],
        [{ expiresAt: now() + 10 * 24 * 3600 }, 400, 'psi_bad_expiry'],
        [{ partyB: alice.address }, 400, 'psi_same_party'],
        [{ partyA: 'nobody' }, 400, 'psi_bad_party'],
        [{ sessionId: '0x1234' }, 400, 'psi_bad_session_id'],
        [{ sessionId: '0x' + '00'.repeat(32) }, 400, 'psi_bad_session_id'],
        [{ transportKey: 'x' }, 400, 'psi_bad_transport_key'],
        [{ role: 'C' }, 400, 'psi_bad_role'],
        [{}, 401, 'psi_bad_signature'],
      ]
      for (const [patch, status, code] of cases) {
        const res = await post({ ...base, sessionId: '0x' + (counter++).toString(16).padStart(64, '7'), ...patch })
        expect({ status: res.status, body: await res.json() }).toMatchObject({ status, body: { error: { code } } })
      }
      const notJson = await app.request('/api/psi/sessions', { method: 'POST', body: '{' }, env)
      expect(notJson.status).toBe(400)
      expect((await app.request('/api/psi/sessions/0x12', {}, env)).status).toBe(400)
      expect((await app.request('/api/psi/sessions/0x' + 'ee'.repeat(32), {}, env)).status).toBe(404)
    })
  })

  describe('requests', () => {
    it('refuse unsigned, foreign, replayed and stale requests; results go only to the parties', async () => {
      const { sessionId } = await openSession()
      const get = (path: string, headers: Record<string, string>) =>
        app.request(`/api/psi/sessions/${sessionId}${path}`, { headers }, env)
      expect((await get('/result', {})).status).toBe(401)
      const sign = async (
        w: Wallet,
        role: 'A' | 'B',
        action: 'get-result' | 'get-relay',
        nonce: string,
        deadline = now() + 60,
      ) => ({
        'x-psi-role': role,
        'x-psi-nonce': nonce,
        'x-psi-deadline': String(deadline),
        'x-psi-signature': await signPsiRequest(w, CHAIN, {
          sessionId,
          role: role === 'A' ? 0 : 1,
          action,
          bodyHash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          nonce,
          deadline,
        }),
      })
      const forged = await get('/result', await sign(mallory, 'A', 'get-result', '1'))
      expect(forged.status).toBe(403)
      const wrongAction = await sign(alice, 'A', 'get-relay', '2')
      expect((await get('/result', wrongAction)).status).toBe(403)
      const h = await sign(alice, 'A', 'get-result', '3')
      const first = await get('/result', h)
      expect(first.status).toBe(409) // nothing compared yet
      expect(await first.json()).toMatchObject({ error: { code: 'psi_not_compared' } })
      const replay = await get('/result', h)
      expect(replay.status).toBe(401)
      expect(await replay.json()).toMatchObject({ error: { code: 'psi_replayed' } })
      const stale = await get('/result', await sign(alice, 'A', 'get-result', '4', now() - 5))
      expect(stale.status).toBe(401)
      const far = await get('/result', await sign(alice, 'A', 'get-result', '5', now() + 3600))
      expect(far.status).toBe(401)
      const relay = await get('/relay', await sign(bob, 'B', 'get-relay', '6'))
      expect(await relay.json()).toMatchObject({ error: { code: 'psi_peer_not_sent' } })
    })

    it('enforces the session’s size limit on the client and the server', async () => {
      const { a, sessionId, ta } = await openSession(2)
      await expect(
        a.run({ sessionId, role: 'A', transport: ta, items: ['1', '2', '3'], engine: portableEngine }),
      ).rejects.toBeInstanceOf(PsiSessionError)
      const body = new Uint8Array(3 * 32 + 16)
      const nonce = '77'
      const deadline = now() + 60
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body))
      const signature = await signPsiRequest(alice, CHAIN, {
        sessionId,
        role: 0,
        action: 'put-relay',
        bodyHash: '0x' + [...digest].map((x) => x.toString(16).padStart(2, '0')).join(''),
        nonce,
        deadline,
      })
      const res = await app.request(
        `/api/psi/sessions/${sessionId}/relay`,
        {
          method: 'PUT',
          body,
          headers: {
            'x-psi-role': 'A',
            'x-psi-nonce': nonce,
            'x-psi-deadline': String(deadline),
            'x-psi-signature': signature,
          },
        },
        env,
      )
      expect(res.status).toBe(413)
    })
  })

  describe('when the session expires', () => {
    it('answers 410 until its alarm has deleted everything, then 404', async () => {
      const { a, sessionId } = await openSession(10, 2)
      await new Promise((r) => setTimeout(r, 2_100))
      const seen = new Set<string>()
      for (let i = 0; i < 40 && !seen.has('404 psi_session_not_found'); i++) {
        const err = (await a.describe(sessionId).catch((e: PsiSessionError) => e)) as PsiSessionError
        seen.add(`${err.status} ${err.code}`)
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(seen.has('404 psi_session_not_found')).toBe(true)
      expect([...seen].every((s) => s === '410 psi_session_expired' || s === '404 psi_session_not_found')).toBe(true)
    })
  })
})
