// Every D1 table, as drizzle schema. SQL names are snake_case; migrations/ is generated from this file.
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

/**
 * The chain the index mirrors (R42: an asset's global key is chainId + contract + tokenId). One row per
 * chain; the indexer issues build on it.
 */
export const chains = sqliteTable('chains', {
  chainId: integer('chain_id').primaryKey(),
  addressBook: text('address_book').notNull(),
  indexedBlock: integer('indexed_block').notNull().default(0),
  updatedAt: integer('updated_at').notNull(),
})

/**
 * One row per publish request (R1, R7): the upload's progress through ciphertext → IPFS → ingest →
 * metadata → mint, so a retry with the same idempotency key never mints twice and a failure names its step.
 * Holds only public facts (CIDs, hashes, ids), never keys or plaintext (R51).
 */
export const publications = sqliteTable(
  'publications',
  {
    id: text('id').primaryKey(),
    owner: text('owner').notNull(),
    idempotencyKey: text('idempotency_key').notNull(),
    /** SHA-256 of the request's manifest: the same key with a different request is refused. */
    requestHash: text('request_hash').notNull(),
    contentHash: text('content_hash').notNull(),
    /** pending → ingested → minted; or failed (with step and error). */
    status: text('status', { enum: ['pending', 'ingested', 'minted', 'failed'] }).notNull(),
    step: text('step').notNull(),
    errorCode: text('error_code'),
    errorMessage: text('error_message'),
    ciphertextCid: text('ciphertext_cid'),
    metadataCid: text('metadata_cid'),
    chainId: integer('chain_id'),
    tokenId: text('token_id'),
    txHash: text('tx_hash'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('publications_owner_key').on(t.owner, t.idempotencyKey),
    index('publications_content').on(t.contentHash),
  ],
)
