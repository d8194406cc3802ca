// The PSI session client over a flaky network: a request written to a keep-alive socket the server had
// closed while this party was computing (found with 60k-id lists: EPIPE, "other side closed") never
// arrived, so it is sent once more; any other network failure is the caller's to see.
import { Wallet } from 'ethers'
import { describe, expect, it } from 'vitest'
import { PsiSessionClient } from '../../sdk/src/psi/index'

const failure = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: { code } })
const id = '0x' + 'ab'.repeat(32)

function clientFailing(first: unknown) {
  const calls: string[] = []
  const fetch: typeof globalThis.fetch = async (input) => {
    calls.push(String(input))
    if (calls.length === 1) throw first
    return new Response(JSON.stringify({ sessionId: id }), { status: 200 })
  }
  return { calls, client: new PsiSessionClient({ api: 'http://api/api', signer: Wallet.createRandom(), fetch }) }
}

describe('PsiSessionClient on a stale keep-alive socket', () => {
  it.each(['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'])('sends a request that failed with %s once more', async (code) => {
    const { calls, client } = clientFailing(failure(code))
    await expect(client.describe(id)).resolves.toMatchObject({ sessionId: id })
    expect(calls).toEqual([`http://api/api/psi/sessions/${id}`, `http://api/api/psi/sessions/${id}`])
  })

  it('does not retry other failures (the API unreachable)', async () => {
    const { calls, client } = clientFailing(failure('ECONNREFUSED'))
    await expect(client.describe(id)).rejects.toThrow('fetch failed')
    expect(calls).toHaveLength(1)
  })
})
