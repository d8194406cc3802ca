// GET /api/enclave: the enclave's attestation for the client to verify (DESIGN §3 Publish step 1), and
// the chain it serves. The worker only relays it: the client checks the quote and the chain itself.
import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { addressBook } from '../services/config'
import { enclaveAttestation } from '../services/enclave'

const NONCE = /^0x[0-9a-fA-F]{64}$/

export const enclave = new Hono<AppEnv>().get('/', async (c) => {
  const nonce = c.req.query('nonce') ?? ''
  if (!NONCE.test(nonce))
    throw new ApiError(400, 'invalid_nonce', 'nonce must be 0x followed by 64 hex digits (32 random bytes)')
  const book = addressBook(c.env)
  const attestation = await enclaveAttestation(c.env, nonce)
  c.header('cache-control', 'no-store')
  return c.json({ attestation, chainId: book.chainId, contracts: book.contracts })
})
