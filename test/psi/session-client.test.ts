// The PSI session client over a flaky network. A request written to a keep-alive socket the server had
// closed while this party was computing (found with 60k-id lists: EPIPE, "other side closed") never
// arrived, so a create or join is sent once more; reads and uploads, which the worker answers again as
// the first time, are retried after any network failure, a signed read with a fresh signature.
// (test/worker/psi-session.test.ts runs the same retries against the real session object.)
import { Wallet } from 'ethers'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { generateTransportKey, portableEngine, PsiSessionClient, PsiSessionError, toHex } from '../../sdk/src/psi/index'
import { countingRandom } from '../support/counting-random'

const failure = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: { code } })
const id = '0x' + 'ab'.repeat(32)
const alice = new Wallet('0x' + '11'.repeat(32))
const bob = new Wallet('0x' + '22'.repeat(32))

const random = countingRandom()

/** A client whose first `failures` requests throw `failure`; later ones answer `{ sessionId }`. */
function clientFailing(err: unknown, failures = 1) {
  const calls: string[] = []
  const fetch: typeof globalThis.fetch = async (input) => {
    calls.push(String(input))
    if (calls.length <= failures) throw err
    return new Response(JSON.stringify({ sessionId: id }), { status: 200 })
  }
  return { calls, client: new PsiSessionClient({ api: 'http://api/api', signer: alice, fetch, random }) }
}

/** The terms of the session every test here uses. */
const terms = {
  sessionId: id,
  chainId: 31337,
  partyA: alice.address,
  partyB: bob.address,
  maxElements: 10,
  expiresAt: 2_000_000_000,
}

const creating = (client: PsiSessionClient) => client.create({ ...terms, role: 'A' })

/** Runs `pending` to its end while its waits between attempts pass on the fake clock. */
async function settle<T>(pending: Promise<T>): Promise<T> {
  const outcome = pending.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  )
  await vi.runAllTimersAsync()
  const done = await outcome
  if ('error' in done) throw done.error
  return done.value
}

describe('PsiSessionClient on a flaky network', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  describe('creating a session (not to be sent twice)', () => {
    it.each(['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'])('sends it once more after %s', async (code) => {
      const { calls, client } = clientFailing(failure(code))
      await expect(creating(client)).resolves.toMatchObject({ session: { sessionId: id } })
      expect(calls).toEqual(['http://api/api/psi/sessions', 'http://api/api/psi/sessions'])
    })

    it('does not send it again after other failures, nor a third time', async () => {
      const refused = clientFailing(failure('ECONNREFUSED'))
      await expect(creating(refused.client)).rejects.toThrow('fetch failed')
      expect(refused.calls).toHaveLength(1)
      const twice = clientFailing(failure('EPIPE'), 2)
      await expect(creating(twice.client)).rejects.toThrow('fetch failed')
      expect(twice.calls).toHaveLength(2)
    })
  })

  describe('reading a session', () => {
    it('retries after any network failure, waiting 200 ms then 1 s', async () => {
      vi.useFakeTimers()
      const { calls, client } = clientFailing(failure('UND_ERR_HEADERS_TIMEOUT'), 2)
      const start = Date.now()
      await expect(settle(client.describe(id))).resolves.toMatchObject({ sessionId: id })
      expect(calls).toHaveLength(3)
      expect(Date.now() - start).toBe(1200)
    })

    it('gives up after three attempts, and does not retry what is not a network failure', async () => {
      vi.useFakeTimers()
      const down = clientFailing(failure('ECONNREFUSED'), 3)
      await expect(settle(down.client.describe(id))).rejects.toThrow('fetch failed')
      expect(down.calls).toHaveLength(3)
      const broken = clientFailing(new RangeError('not a network failure'))
      await expect(settle(broken.client.describe(id))).rejects.toThrow(RangeError)
      expect(broken.calls).toHaveLength(1)
    })
  })

  describe('running the protocol', () => {
    it('signs a read afresh when it is retried (its first attempt may have spent the nonce)', async () => {
      const peer = generateTransportKey(random)
      const session = {
        ...terms,
        state: 'exchanging',
        joined: { A: true, B: true },
        transportKeys: { B: '0x' + toHex(peer.publicKey) },
      }
      const reads: Array<Record<string, string>> = []
      const fetch: typeof globalThis.fetch = async (input, init) => {
        const path = String(input).replace(`http://api/api/psi/sessions/${id}`, '')
        if (path === '') return Response.json(session)
        if (init?.method === 'PUT') return Response.json({ bytes: 48 })
        reads.push(init?.headers as Record<string, string>)
        // The first read reached the worker (spending its nonce) but its answer was lost.
        if (reads.length === 1) throw failure('ECONNRESET')
        return Response.json({ error: { code: 'psi_session_expired', message: 'expired' } }, { status: 410 })
      }
      const client = new PsiSessionClient({ api: 'http://api/api', signer: alice, fetch, random })
      const transport = generateTransportKey(random)
      const run = client.run({ sessionId: id, role: 'A', transport, items: ['x'], engine: portableEngine })
      await expect(run).rejects.toBeInstanceOf(PsiSessionError)
      await expect(run).rejects.toMatchObject({ status: 410, code: 'psi_session_expired' })
      expect(reads).toHaveLength(2)
      expect(reads[1]['x-psi-nonce']).not.toBe(reads[0]['x-psi-nonce'])
      expect(reads[1]['x-psi-signature']).not.toBe(reads[0]['x-psi-signature'])
      expect(reads[1]['x-psi-role']).toBe('A')
    })
  })
})
