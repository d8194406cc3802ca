// GET /api/chain: which chain and contracts this marketplace uses (R42: the address book is configuration).
import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { addressBook } from '../services/config'

export const chain = new Hono<AppEnv>().get('/', (c) => {
  const book = addressBook(c.env)
  return c.json({ chainId: book.chainId, contracts: book.contracts, deployedAtBlock: book.deployedAtBlock })
})
