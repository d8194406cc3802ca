// Every D1 table, as drizzle schema. SQL names are snake_case; migrations/ is generated from this file.
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core'

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
