// GET /api/publications (the signed-in owner's publish requests, newest first) and
// GET /api/publications/:id — the pending → minted | failed status of each, with the failing step. A
// direct upload's client polls the latter: a minted one carries the same `result` body POST /api/assets
// answers, a failed one the HTTP `status` that request would have had.
import { desc, eq } from 'drizzle-orm'
import { drizzle } from 'drizzle-orm/d1'
import { Hono } from 'hono'
import { publications as table } from '../db/schema'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { requireSession } from '../middleware/session'
import { failIfAbandoned } from '../services/publish'

type Row = typeof table.$inferSelect

function view(row: Row) {
  // `result` holds the finished body: the outcome when minted, `{ error: { status, … } }` when failed.
  const stored = row.result ? (JSON.parse(row.result) as { error?: { status?: number } }) : undefined
  return {
    id: row.id,
    status: row.status,
    step: row.step,
    error:
      row.status === 'failed' && row.errorCode
        ? { code: row.errorCode, message: row.errorMessage, status: stored?.error?.status }
        : undefined,
    // Still running after a failure that may pass (the enclave or IPFS was down): what is being retried.
    retrying: row.status !== 'failed' && row.errorCode ? { code: row.errorCode, message: row.errorMessage } : undefined,
    result: row.status === 'minted' ? stored : undefined,
    owner: row.owner,
    contentHash: row.contentHash,
    ciphertextCid: row.ciphertextCid,
    metadataCid: row.metadataCid,
    chainId: row.chainId,
    tokenId: row.tokenId,
    txHash: row.txHash,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
  }
}

export const publications = new Hono<AppEnv>()
  .get('/', requireSession, async (c) => {
    const rows = await drizzle(c.env.DB)
      .select()
      .from(table)
      .where(eq(table.owner, c.get('address')))
      .orderBy(desc(table.createdAt))
      .limit(200)
    return c.json({ publications: rows.map(view) })
  })
  .get('/:id', async (c) => {
    const id = c.req.param('id')
    if (!/^[0-9a-f-]{36}$/.test(id)) throw new ApiError(400, 'invalid_id', 'a publication id is a UUID')
    const [row] = await drizzle(c.env.DB).select().from(table).where(eq(table.id, id))
    if (!row) throw new ApiError(404, 'publication_not_found', `no publication ${id}`)
    return c.json(view(await failIfAbandoned(c.env, row)))
  })
