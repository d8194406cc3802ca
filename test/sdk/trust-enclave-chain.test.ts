// trustEnclave reads the enclave's approval on the client's own chain: when that chain does not answer, the
// owner is told so, naming it — not "connect ECONNREFUSED 127.0.0.1:9", nor an attestation that "does not
// verify". The API here is a scripted fetch; the real one is exercised in test/e2e/publish.test.ts.
import { createServer } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ApiClient, ServiceUnreachableError, trustEnclave } from '../../sdk/src/index'

const closedPort = await new Promise<number>((resolve) => {
  const server = createServer().listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number }
    server.close(() => resolve(port))
  })
})

const api = new ApiClient({
  apiUrl: 'http://api.test/api',
  fetch: (async () =>
    Response.json({
      chainId: 31337,
      contracts: { EnclaveRegistry: `0x${'11'.repeat(20)}` },
      attestation: {},
    })) as typeof fetch,
})

describe('trustEnclave with a chain that does not answer', () => {
  it('says the chain could not be reached, naming it', async () => {
    const rpcUrl = `http://127.0.0.1:${closedPort}`
    const err = await trustEnclave(api, { rpcUrl }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ServiceUnreachableError)
    expect((err as Error).message).toContain(`the chain at ${rpcUrl} could not be reached (ECONNREFUSED)`)
  }, 30_000)
})
