// /api/psi/sessions inside workerd: consent, relays, the comparison, results only to each party,
// replay, retry and expiry — with real signatures and the portable (pure-JS) party engine.
import { env } from 'cloudflare:workers'
import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { Wallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import { app } from '../../worker/src/index'
import type { LedgerCommitment, PsiLedger } from '../../worker/src/psi/commit'
import type { PsiBindings } from '../../worker/src/psi/env'
import { PSI_TOMBSTONE_S } from '../../worker/src/psi/limits'
import { ContractRevertError } from '../../worker/src/services/relayer'
import {
  PsiSessionClient,
  PsiSessionError,
  portableEngine,
  psiTranscriptHash,
  signPsiRequest,
  toHex,
  type PsiAction,
  type PsiCommitStatus,
} from '../../sdk/src/psi/index'
import { countingRandom } from '../support/counting-random'

const CHAIN = 31337
const alice = new Wallet('0x' + '11'.repeat(32))
const bob = new Wallet('0x' + '22'.repeat(32))
const mallory = new Wallet('0x' + '33'.repeat(32))

// Requests go to the app in-process, with the real PSI_SESSIONS Durable Object namespace.
const inProcess: typeof fetch = (input, init) =>
  Promise.resolve(app.request(String(input).replace('http://worker', ''), init as RequestInit, env))

const random = countingRandom()

const client = (signer: Wallet) => new PsiSessionClient({ api: 'http://worker/api', signer, fetch: inProcess, random })
const now = () => Math.floor(Date.now() / 1000)

/** Alice creates session `sessionId` as party A, with Bob as B. */
const createAs = (a: PsiSessionClient, sessionId: string, maxElements = 10, lifetime = 60) =>
  a.create({
    sessionId,
    chainId: CHAIN,
    partyA: alice.address,
    partyB: bob.address,
    maxElements,
    expiresAt: now() + lifetime,
    role: 'A',
  })

async function openSession(maxElements = 100, lifetime = 600) {
  const a = client(alice)
  const b = client(bob)
  const sessionId = a.newSessionId()
  const { transport: ta } = await createAs(a, sessionId, maxElements, lifetime)
  const { session, transport: tb } = await b.join(sessionId, 'B')
  return { a, b, sessionId, ta, tb, session }
}

const stubOf = (sessionId: string) => {
  const ns = (env as unknown as PsiBindings).PSI_SESSIONS
  return ns.get(ns.idFromName(sessionId))
}

/** Headers of a request signed by `w` as party `role` for `action` over `body`. */
async function signedHeaders(
  w: Wallet,
  sessionId: string,
  role: 'A' | 'B',
  action: PsiAction,
  body: Uint8Array,
  nonce: string,
  deadline = now() + 60,
): Promise<Record<string, string>> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body))
  return {
    'x-psi-role': role,
    'x-psi-nonce': nonce,
    'x-psi-deadline': String(deadline),
    'x-psi-signature': await signPsiRequest(w, CHAIN, {
      sessionId,
      role: role === 'A' ? 0 : 1,
      action,
      bodyHash: '0x' + toHex(digest),
      nonce,
      deadline,
    }),
  }
}

/** A request to the session, answered as `{ status, body }`. */
async function send(
  sessionId: string,
  method: 'GET' | 'PUT',
  path: string,
  headers: Record<string, string>,
  body?: Uint8Array,
) {
  const res = await app.request(`/api/psi/sessions/${sessionId}${path}`, { method, headers, body }, env)
  const type = res.headers.get('content-type') ?? ''
  return { status: res.status, body: type.startsWith('application/json') ? await res.json() : await res.arrayBuffer() }
}

/** What the session object holds, table by table (meta parsed). */
async function storage(sessionId: string) {
  return runInDurableObject(stubOf(sessionId), async (_, state) => {
    const rows = (table: string) => state.storage.sql.exec(`SELECT * FROM ${table}`).toArray()
    const meta = rows('meta')[0] as { json: string } | undefined
    return {
      meta: meta && (JSON.parse(meta.json) as Record<string, unknown>),
      blobs: rows('blobs').length,
      sent: rows('sent'),
      nonces: rows('nonces'),
      results: rows('results').map((r) => [r.role, [...new Uint32Array(r.positions as ArrayBuffer)]]),
      alarm: await state.storage.getAlarm(),
    }
  })
}

/** `n` bytes of `value`. */
const filled = (n: number, value: number) => new Uint8Array(n).fill(value)

/**
 * ComputeLedger's PSI rules in memory (once per session, replays refused with the contract's error), so
 * the retry logic can meet what a real chain does on a crash: a mined transaction whose answer was lost,
 * a read that lags a write. The real chain is exercised end to end in test/e2e/psi.test.ts.
 */
class LedgerDouble implements PsiLedger {
  held = new Map<string, { transcriptHash: string; intersectionSize: number }>()
  sends = 0
  refusals = 0
  /**
   * `landedEarlier`: an earlier attempt's transaction for the session is already on chain (with the
   * commitment this attempt sends) though reads have not seen it yet, so a send meets the replay refusal.
   */
  constructor(private faults: { loseAnswers?: number; staleReads?: number; landedEarlier?: boolean }) {}
  txHash = (sessionId: string) => '0x' + sessionId.slice(2, 10).padEnd(64, 'f')
  async read(sessionId: string): Promise<LedgerCommitment | undefined> {
    if (this.faults.staleReads && this.faults.staleReads-- > 0) return undefined
    const c = this.held.get(sessionId)
    return c && { ...c, txHash: this.txHash(sessionId), blockNumber: 7 }
  }
  async commit(sessionId: string, transcriptHash: string, intersectionSize: number) {
    if (this.faults.landedEarlier && !this.held.has(sessionId))
      this.held.set(sessionId, { transcriptHash, intersectionSize })
    if (this.held.has(sessionId)) {
      this.refusals++
      throw new ContractRevertError('ComputeLedgerPsiAlreadyCommitted', [sessionId])
    }
    this.held.set(sessionId, { transcriptHash, intersectionSize })
    this.sends++
    if (this.faults.loseAnswers && this.faults.loseAnswers-- > 0) throw new Error('connection reset')
    return { txHash: this.txHash(sessionId), blockNumber: 7 }
  }
}

/** Puts `ledger` in place of the chain in the session's Durable Object (before anything is compared). */
async function useLedger(sessionId: string, ledger: PsiLedger) {
  await runInDurableObject(stubOf(sessionId), (instance) => {
    ;(instance as unknown as { ledger: () => PsiLedger }).ledger = () => ledger
  })
}

/** The session's commit status once `done` holds (default: no longer pending). */
async function settled(
  sessionId: string,
  done: (c: PsiCommitStatus) => boolean = (c) => c.status !== 'pending',
): Promise<PsiCommitStatus> {
  for (let i = 0; i < 200; i++) {
    const { commit } = await client(alice).describe(sessionId)
    if (commit && done(commit)) return commit
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`commit of ${sessionId} did not settle`)
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
      // Each party recomputed the transcript from its own messages, and both arrive at C's hash.
      expect(psiTranscriptHash(ra.transcript)).toBe(ra.transcriptHash)
      expect(psiTranscriptHash(rb.transcript)).toBe(ra.transcriptHash)
      expect(ra.transcript.digests).toEqual(rb.transcript.digests)
      const status = await a.describe(sessionId)
      expect(status.state).toBe('done')
      expect(JSON.stringify(status)).not.toMatch(/intersection|positions|transcript/)
      // This test worker has no chain configured: the commit fails for good, naming the setting.
      const commit = await settled(sessionId)
      expect(commit).toMatchObject({ status: 'failed', attempts: 1, error: expect.stringMatching(/ADDRESS_BOOK/) })
    })

    it('gives each party only its own positions, and nobody else any result', async () => {
      const { a, b, sessionId, ta, tb } = await openSession()
      const [ra, rb] = await Promise.all([
        a.run({ sessionId, role: 'A', transport: ta, items: ['p', 'q', 'r'], engine: portableEngine, pollMs: 20 }),
        b.run({ sessionId, role: 'B', transport: tb, items: ['r', 's'], engine: portableEngine, pollMs: 20 }),
      ])
      // Positions index the party's own shuffled list: A's are < |A|, B's < |B|, one match each.
      expect(ra.positions).toHaveLength(1)
      expect(rb.positions).toHaveLength(1)
      expect(ra.positions[0]).toBeLessThan(3)
      expect(rb.positions[0]).toBeLessThan(2)
      const asking = async (w: Wallet, role: 'A' | 'B', nonce: string) => {
        const deadline = now() + 60
        const signature = await signPsiRequest(w, CHAIN, {
          sessionId,
          role: role === 'A' ? 0 : 1,
          action: 'get-result',
          bodyHash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
          nonce,
          deadline,
        })
        const headers = {
          'x-psi-role': role,
          'x-psi-nonce': nonce,
          'x-psi-deadline': String(deadline),
          'x-psi-signature': signature,
        }
        return app.request(`/api/psi/sessions/${sessionId}/result`, { headers }, env)
      }
      // A third address, as either role, and each party posing as the other, are all refused.
      for (const [w, role, nonce] of [
        [mallory, 'A', '901'],
        [mallory, 'B', '902'],
        [alice, 'B', '903'],
        [bob, 'A', '904'],
      ] as const) {
        const res = await asking(w, role, nonce)
        expect({ role, status: res.status, body: await res.json() }).toMatchObject({
          role,
          status: 403,
          body: { error: { code: 'psi_not_a_party' } },
        })
      }
      // A party's own answer carries its positions, never the peer's.
      const own = (await (await asking(bob, 'B', '905')).json()) as { positions: number[] }
      expect(own.positions).toEqual(rb.positions)
      // The singly-blinded relays are gone once compared: not even a party can fetch them again.
      const relay = await app.request(
        `/api/psi/sessions/${sessionId}/relay`,
        {
          headers: await (async () => {
            const deadline = now() + 60
            return {
              'x-psi-role': 'A',
              'x-psi-nonce': '906',
              'x-psi-deadline': String(deadline),
              'x-psi-signature': await signPsiRequest(alice, CHAIN, {
                sessionId,
                role: 0,
                action: 'get-relay',
                bodyHash: '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
                nonce: '906',
                deadline,
              }),
            }
          })(),
        },
        env,
      )
      expect(relay.status).toBe(409)
    })
  })

  describe('when C misreports the transcript', () => {
    it('the party refuses the result', async () => {
      const { b, sessionId, ta, tb } = await openSession()
      // A's view of C: the worker's answers, except that the result reports a different V.
      const lying: typeof fetch = async (input, init) => {
        const res = await inProcess(input, init)
        if (!String(input).endsWith('/result') || !res.ok) return res
        const body = (await res.json()) as { digests: { v: string } }
        body.digests.v = '0x' + '42'.repeat(32)
        return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } })
      }
      const a = new PsiSessionClient({ api: 'http://worker/api', signer: alice, fetch: lying, random })
      const [ra, rb] = await Promise.allSettled([
        a.run({ sessionId, role: 'A', transport: ta, items: ['x', 'y'], engine: portableEngine, pollMs: 20 }),
        b.run({ sessionId, role: 'B', transport: tb, items: ['y'], engine: portableEngine, pollMs: 20 }),
      ])
      expect(ra).toMatchObject({ status: 'rejected', reason: { code: 'psi_transcript_mismatch' } })
      expect(rb.status).toBe('fulfilled')
    })
  })

  describe('committing the transcript on chain', () => {
    it('commits once even when the answer to the first transaction is lost, and shows the tx hash', async () => {
      const chain = new LedgerDouble({ loseAnswers: 1 })
      const { a, b, sessionId, ta, tb } = await openSession()
      await useLedger(sessionId, chain)
      const [ra, rb] = await Promise.all([
        a.run({ sessionId, role: 'A', transport: ta, items: ['x', 'y', 'z'], engine: portableEngine, pollMs: 20 }),
        b.run({ sessionId, role: 'B', transport: tb, items: ['y', 'z', 'w'], engine: portableEngine, pollMs: 20 }),
      ])
      // The first attempt sent the transaction but lost its answer: still pending, to be retried.
      const first = await settled(sessionId, (c) => c.attempts >= 1)
      expect(first).toMatchObject({
        status: 'pending',
        attempts: 1,
        error: expect.stringMatching(/did not answer \(Error\); retrying/),
      })
      expect(JSON.stringify(first)).not.toMatch(/connection reset/) // the public view quotes no RPC error text
      expect(chain.sends).toBe(1)
      // The retry asks the chain first and adopts the commitment already there: no second transaction.
      expect(await runDurableObjectAlarm(stubOf(sessionId))).toBe(true)
      const done = await settled(sessionId)
      expect(done).toEqual({ status: 'committed', attempts: 2, txHash: chain.txHash(sessionId), blockNumber: 7 })
      expect(chain.sends).toBe(1)
      expect(chain.refusals).toBe(0)
      // What is on chain is what each party computed on its own.
      expect(chain.held.get(sessionId)).toEqual({
        transcriptHash: psiTranscriptHash(ra.transcript),
        intersectionSize: 2,
      })
      expect(psiTranscriptHash(rb.transcript)).toBe(psiTranscriptHash(ra.transcript))
      // A later alarm (expiry) does not commit again.
      await runDurableObjectAlarm(stubOf(sessionId))
      expect(chain.sends).toBe(1)
    })

    it('reads the chain’s replay refusal as done by an earlier attempt', async () => {
      // An earlier attempt's transaction is on chain, but the first read does not see it yet. (Set up
      // before the run: the alarm may commit as soon as the lists are compared.)
      const chain = new LedgerDouble({ staleReads: 1, landedEarlier: true })
      const { a, b, sessionId, ta, tb } = await openSession()
      await useLedger(sessionId, chain)
      const [ra] = await Promise.all([
        a.run({ sessionId, role: 'A', transport: ta, items: ['x'], engine: portableEngine, pollMs: 20 }),
        b.run({ sessionId, role: 'B', transport: tb, items: ['x'], engine: portableEngine, pollMs: 20 }),
      ])
      const done = await settled(sessionId)
      expect(chain.held.get(sessionId)).toEqual({
        transcriptHash: psiTranscriptHash(ra.transcript),
        intersectionSize: 1,
      })
      expect(done).toMatchObject({ status: 'committed', attempts: 1, txHash: chain.txHash(sessionId) })
      expect(chain.sends).toBe(0)
      expect(chain.refusals).toBe(1)
    })

    it('fails loudly when the chain holds a different commitment for the session', async () => {
      const chain = new LedgerDouble({})
      const { a, b, sessionId, ta, tb } = await openSession()
      chain.held.set(sessionId, { transcriptHash: '0x' + '99'.repeat(32), intersectionSize: 1 })
      await useLedger(sessionId, chain)
      await Promise.all([
        a.run({ sessionId, role: 'A', transport: ta, items: ['x'], engine: portableEngine, pollMs: 20 }),
        b.run({ sessionId, role: 'B', transport: tb, items: ['x'], engine: portableEngine, pollMs: 20 }),
      ])
      const done = await settled(sessionId)
      expect(done).toMatchObject({ status: 'failed', error: expect.stringMatching(/different commitment/) })
      expect(chain.sends).toBe(0)
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
      await expect(createAs(a, sessionId)).rejects.toMatchObject({ status: 409, code: 'psi_session_exists' })
      await expect(client(bob).join(sessionId, 'B')).rejects.toMatchObject({ status: 409, code: 'psi_already_joined' })
      await expect(client(mallory).join(sessionId, 'B')).rejects.toThrow(/not party B/)
    })

    it('refuses a session for another chain than the one this marketplace commits on', async () => {
      const book = JSON.stringify({ chainId: CHAIN, contracts: {}, deployedAtBlock: 0 })
      const withBook: typeof fetch = (input, init) =>
        Promise.resolve(
          app.request(String(input).replace('http://worker', ''), init as RequestInit, { ...env, ADDRESS_BOOK: book }),
        )
      const a = new PsiSessionClient({ api: 'http://worker/api', signer: alice, fetch: withBook, random })
      const session = {
        sessionId: a.newSessionId(),
        partyA: alice.address,
        partyB: bob.address,
        maxElements: 10,
        expiresAt: now() + 600,
        role: 'A' as const,
      }
      const err = await a.create({ ...session, chainId: 1 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(PsiSessionError)
      expect(err).toMatchObject({ status: 400, code: 'psi_wrong_chain' })
      expect((err as Error).message).toBe(
        'this marketplace commits PSI results on chain 31337; the session names chain 1',
      )
      await expect(a.create({ ...session, chainId: CHAIN })).resolves.toMatchObject({ transport: expect.anything() })
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
      const JSON_TYPE = { 'content-type': 'application/json' }
      const raw = (path: string, body: string, headers: Record<string, string> = JSON_TYPE) =>
        app.request(path, { method: 'POST', headers, body }, env)
      const post = (body: unknown) => raw('/api/psi/sessions', JSON.stringify(body))
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
      for (const [i, [patch, status, code]] of cases.entries()) {
        // A fresh session id per case (the ids are not otherwise random here).
        const res = await post({ ...base, sessionId: '0x' + (0x10000 + i).toString(16).padStart(64, '7'), ...patch })
        expect({ status: res.status, body: await res.json() }).toMatchObject({ status, body: { error: { code } } })
      }
      const notJson = await raw('/api/psi/sessions', '{')
      expect(notJson.status).toBe(400)
      // Bodies the session object could not even be handed (were 500s): deep nesting, not an object, too big.
      const deep = `{"sessionId":"0x${'12'.repeat(32)}","x":${'['.repeat(5000)}${']'.repeat(5000)}}`
      expect((await raw('/api/psi/sessions', deep)).status).toBe(400)
      expect((await raw('/api/psi/sessions', 'null')).status).toBe(400)
      const joinNull = await raw(`/api/psi/sessions/0x${'ee'.repeat(32)}/join`, 'null')
      expect(joinNull.status).toBe(400)
      const huge = await raw('/api/psi/sessions', JSON.stringify({ ...base, pad: 'x'.repeat(64 * 1024) }))
      expect(huge.status).toBe(413)
      // A body that does not say it is JSON (fetch's text/plain default for a string, a form) is 415.
      for (const type of ['text/plain;charset=UTF-8', 'application/x-www-form-urlencoded']) {
        const res = await raw('/api/psi/sessions', JSON.stringify(base), { 'content-type': type })
        expect({ status: res.status, body: await res.json() }).toMatchObject({
          status: 415,
          body: { error: { code: 'unsupported_media_type' } },
        })
      }
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
      // Headers present but malformed: a bad request, named, not "unsigned".
      const malformed = { 'x-psi-role': 'A', 'x-psi-nonce': '0x01', 'x-psi-deadline': '1', 'x-psi-signature': '0x' }
      const badRole = await get('/result', { ...malformed, 'x-psi-role': 'C' })
      expect(badRole.status).toBe(400)
      expect(((await badRole.json()) as { error: { code: string } }).error.code).toBe('psi_bad_role')
      for (const deadline of ['1e400', '1.5', '9007199254740993'])
        expect((await get('/result', { ...malformed, 'x-psi-deadline': deadline })).status).toBe(400)
      const sign = (
        w: Wallet,
        role: 'A' | 'B',
        action: 'get-result' | 'get-relay',
        nonce: string,
        deadline = now() + 60,
      ) => signedHeaders(w, sessionId, role, action, new Uint8Array(), nonce, deadline)
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

  describe('when a party sends a list again', () => {
    it('answers identical bytes as the first time, even the very request replayed, and changes nothing', async () => {
      const chain = new LedgerDouble({})
      const { sessionId } = await openSession()
      await useLedger(sessionId, chain)
      // The worker checks only sizes: A relays two elements, B one; U re-blinds B's one, V A's two, and
      // V's second element matches U's.
      const relayA = filled(2 * 32 + 16, 1)
      const relayB = filled(32 + 16, 2)
      const u = filled(32, 9)
      const v = new Uint8Array([...filled(32, 8), ...filled(32, 9)])
      const put = async (w: Wallet, role: 'A' | 'B', kind: 'relay' | 'blinded', body: Uint8Array, nonce: string) => {
        const headers = await signedHeaders(w, sessionId, role, `put-${kind}`, body, nonce)
        return { headers, reply: await send(sessionId, 'PUT', `/${kind}`, headers, body) }
      }
      const replay = (headers: Record<string, string>, kind: 'relay' | 'blinded', body: Uint8Array) =>
        send(sessionId, 'PUT', `/${kind}`, headers, body)

      const relay = await put(alice, 'A', 'relay', relayA, '1')
      expect(relay.reply).toEqual({ status: 200, body: { bytes: 80 } })
      const afterFirst = await storage(sessionId)
      // Its reply lost, the client sends the very request again, or signs the same bytes afresh.
      expect(await replay(relay.headers, 'relay', relayA)).toEqual({ status: 200, body: { bytes: 80 } })
      expect((await put(alice, 'A', 'relay', relayA, '2')).reply).toEqual({ status: 200, body: { bytes: 80 } })
      // No state changed: not even the fresh nonce was spent.
      expect(await storage(sessionId)).toEqual(afterFirst)
      expect(afterFirst.nonces).toEqual([{ role: 'A', nonce: '1' }])

      // Identical bytes do not excuse the other checks: the signer must be the party, in time.
      const refusals = [
        await put(mallory, 'A', 'relay', relayA, '3'),
        await put(bob, 'A', 'relay', relayA, '4'),
        {
          reply: await replay({ ...relay.headers, 'x-psi-signature': '0x' + '00'.repeat(65) }, 'relay', relayA),
        },
        {
          reply: await send(
            sessionId,
            'PUT',
            '/relay',
            await signedHeaders(alice, sessionId, 'A', 'put-relay', relayA, '5', now() - 5),
            relayA,
          ),
        },
      ]
      expect(refusals.map((r) => [r.reply.status, (r.reply.body as { error: { code: string } }).error.code])).toEqual([
        [403, 'psi_not_a_party'],
        [403, 'psi_not_a_party'],
        [401, 'psi_bad_signature'],
        [401, 'psi_stale_signature'],
      ])

      // Other bytes for a list already sent are refused, saying what to do.
      const changed = await put(alice, 'A', 'relay', filled(80, 3), '6')
      expect(changed.reply).toMatchObject({ status: 409, body: { error: { code: 'psi_already_sent' } } })
      const message = (changed.reply.body as { error: { message: string } }).error.message
      expect(message).toMatch(/cannot be changed/)
      expect(message).toMatch(/PSI secret is never stored.*start a new session/)

      expect((await put(bob, 'B', 'relay', relayB, '1')).reply.status).toBe(200)
      const blindedA = await put(alice, 'A', 'blinded', u, '7')
      expect(blindedA.reply).toEqual({ status: 200, body: { state: 'comparing' } })
      expect(await replay(blindedA.headers, 'blinded', u)).toEqual({ status: 200, body: { state: 'comparing' } })
      const blindedB = await put(bob, 'B', 'blinded', v, '2')
      expect(blindedB.reply).toEqual({ status: 200, body: { state: 'done' } })
      expect(await settled(sessionId)).toMatchObject({ status: 'committed', attempts: 1 })
      const compared = await storage(sessionId)
      expect(compared.results).toEqual([
        ['A', [1]],
        ['B', [0]],
      ])

      // The second blinded list again, exactly and re-signed, and A's relay after the relays were
      // dropped: the same answers, no second comparison, no second commit, no alarm set again.
      expect(await replay(blindedB.headers, 'blinded', v)).toEqual({ status: 200, body: { state: 'done' } })
      expect((await put(bob, 'B', 'blinded', v, '3')).reply).toEqual({ status: 200, body: { state: 'done' } })
      expect(await replay(relay.headers, 'relay', relayA)).toEqual({ status: 200, body: { bytes: 80 } })
      expect(await storage(sessionId)).toEqual(compared)
      expect(chain.sends).toBe(1)
      for (const [w, role, kind, body, nonce] of [
        [bob, 'B', 'blinded', filled(64, 4), '4'],
        [alice, 'A', 'relay', filled(80, 5), '8'],
      ] as const)
        expect((await put(w, role, kind, body, nonce)).reply).toMatchObject({
          status: 409,
          body: { error: { code: 'psi_already_sent' } },
        })

      // A read is answered once per signature: replaying it is refused, as before.
      const read = await signedHeaders(alice, sessionId, 'A', 'get-result', new Uint8Array(), '9')
      expect(await send(sessionId, 'GET', '/result', read)).toMatchObject({ status: 200, body: { positions: [1] } })
      expect(await send(sessionId, 'GET', '/result', read)).toMatchObject({
        status: 401,
        body: { error: { code: 'psi_replayed' } },
      })
    })

    it('lets a party whose replies were lost retry each request, and the run completes', async () => {
      const chain = new LedgerDouble({})
      const { b, sessionId, ta, tb } = await openSession()
      await useLedger(sessionId, chain)
      const lost: string[] = []
      const readNonces: string[] = []
      // A's network: the worker acts on each upload and read, but the first successful answer to each is
      // lost (as a timeout waiting for the response).
      const lossy: typeof fetch = async (input, init) => {
        const res = await inProcess(input, init)
        const step = `${init?.method ?? 'GET'} ${String(input).split('/').pop()}`
        if (/^GET (relay|result)$/.test(step)) readNonces.push((init?.headers as Record<string, string>)['x-psi-nonce'])
        if (!res.ok || !/(relay|blinded|result)$/.test(step) || lost.includes(step)) return res
        lost.push(step)
        throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'UND_ERR_HEADERS_TIMEOUT' } })
      }
      const a = new PsiSessionClient({ api: 'http://worker/api', signer: alice, fetch: lossy, random })
      const [ra, rb] = await Promise.all([
        a.run({ sessionId, role: 'A', transport: ta, items: ['x', 'y'], engine: portableEngine, pollMs: 20 }),
        b.run({ sessionId, role: 'B', transport: tb, items: ['y', 'z'], engine: portableEngine, pollMs: 20 }),
      ])
      expect(lost.sort()).toEqual(['GET relay', 'GET result', 'PUT blinded', 'PUT relay'])
      expect(ra.values).toEqual(['y'])
      expect(rb.values).toEqual(['y'])
      expect(ra.transcriptHash).toBe(rb.transcriptHash)
      // Each read, retries included, was signed afresh: no nonce twice.
      expect(new Set(readNonces).size).toBe(readNonces.length)
      expect(await settled(sessionId)).toMatchObject({ status: 'committed' })
      expect(chain.sends).toBe(1)
    })
  })

  describe('when the session expires', () => {
    it('keeps a tombstone that answers 410 to every call, saying when and how it ended, until its own alarm', async () => {
      // The chain cannot be reached: the commit is still being retried when the session expires.
      const unreachable: PsiLedger = {
        read: () => Promise.reject(new Error('connect ECONNREFUSED')),
        commit: () => Promise.reject(new Error('connect ECONNREFUSED')),
      }
      const { a, b, sessionId, ta, tb, session } = await openSession(10, 3)
      await useLedger(sessionId, unreachable)
      const [ra] = await Promise.all([
        a.run({ sessionId, role: 'A', transport: ta, items: ['x', 'y'], engine: portableEngine, pollMs: 20 }),
        b.run({ sessionId, role: 'B', transport: tb, items: ['y'], engine: portableEngine, pollMs: 20 }),
      ])
      expect(await settled(sessionId, (c) => c.attempts >= 1)).toMatchObject({ status: 'pending' })
      // The expiry alarm (real time: the session lives 3 s) turns the session into its tombstone.
      let held = await storage(sessionId)
      for (let i = 0; i < 100 && !held.meta?.expired; i++) {
        await new Promise((r) => setTimeout(r, 100))
        held = await storage(sessionId)
      }
      const { expiresAt } = session
      expect(held).toEqual({
        meta: {
          expired: true,
          sessionId,
          chainId: CHAIN,
          partyA: alice.address,
          partyB: bob.address,
          maxElements: 10,
          expiresAt,
          result: { intersectionSize: 1, transcriptHash: ra.transcriptHash },
          commit: {
            status: 'failed',
            attempts: expect.any(Number),
            error: expect.stringMatching(/^not confirmed on chain when the session expired/),
          },
        },
        blobs: 0,
        sent: [],
        nonces: [],
        results: [],
        alarm: (expiresAt + PSI_TOMBSTONE_S) * 1000,
      })

      const gone = {
        status: 410,
        body: {
          error: {
            code: 'psi_session_expired',
            message: expect.stringContaining(`expired at ${new Date(expiresAt * 1000).toISOString()}`),
            expiredAt: expiresAt,
            commit: held.meta!.commit,
          },
        },
      }
      const signed = (role: 'A' | 'B', action: PsiAction, body: Uint8Array, nonce: string) =>
        signedHeaders(role === 'A' ? alice : bob, sessionId, role, action, body, nonce)
      const calls = {
        describe: await send(sessionId, 'GET', '', {}),
        join: await (async () => {
          const res = await app.request(
            `/api/psi/sessions/${sessionId}/join`,
            {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ role: 'B', transportKey: '0x' + '01'.repeat(32), signature: '0x' }),
            },
            env,
          )
          return { status: res.status, body: await res.json() }
        })(),
        putRelay: await send(
          sessionId,
          'PUT',
          '/relay',
          await signed('A', 'put-relay', filled(48, 1), '1'),
          filled(48, 1),
        ),
        getRelay: await send(sessionId, 'GET', '/relay', await signed('B', 'get-relay', new Uint8Array(), '2')),
        putBlinded: await send(
          sessionId,
          'PUT',
          '/blinded',
          await signed('A', 'put-blinded', filled(32, 1), '3'),
          filled(32, 1),
        ),
        getResult: await send(sessionId, 'GET', '/result', await signed('A', 'get-result', new Uint8Array(), '4')),
      }
      expect(calls).toEqual({
        describe: gone,
        join: gone,
        putRelay: gone,
        getRelay: gone,
        putBlinded: gone,
        getResult: gone,
      })
      expect((calls.describe.body as { error: { message: string } }).error.message).toMatch(/new session/)
      // The id is not given to a new session while the tombstone stands.
      await expect(createAs(a, sessionId)).rejects.toMatchObject({
        status: 409,
        code: 'psi_session_exists',
        message: expect.stringMatching(/expired at/),
      })

      // The tombstone's own alarm deletes it.
      expect(await runDurableObjectAlarm(stubOf(sessionId))).toBe(true)
      expect((await storage(sessionId)).meta).toBeUndefined()
      await expect(a.describe(sessionId)).rejects.toMatchObject({ status: 404, code: 'psi_session_not_found' })
    })
  })
})
