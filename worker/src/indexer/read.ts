// Owns reads of the index that several routes share: the chain being served and how far it is indexed.
import { ApiError } from '../errors'
import { addressBook } from '../services/config'
import type { IndexerBindings } from './settings'

export interface IndexedChain {
  chainId: number
  /** The last block whose events are in D1 (−1 before the first run). */
  indexedBlock: number
}

/** The configured chain and its cursor. A replay in progress reports the block it rebuilds up to. */
export async function indexedChain(env: IndexerBindings): Promise<IndexedChain> {
  const { chainId } = addressBook(env)
  const row = await env.DB.prepare('SELECT indexed_block AS b FROM chains WHERE chain_id = ?')
    .bind(chainId)
    .first<{ b: number }>()
  const b = row?.b ?? -1
  return { chainId, indexedBlock: b < -1 ? -b - 2 : b }
}

/** The decoded event args stored as canonical JSON. */
export const argsOf = (json: string) => JSON.parse(json) as Record<string, string>

export function notFound(code: string, message: string): never {
  throw new ApiError(404, code, message)
}
