// Every operation under /api, described once: the table the OpenAPI document is built from, assembled from its
// parts by resource. The order is the document's order (paths, and operations within a tag on the page).
import { marketOperations } from './operations/market'
import { publishingOperations } from './operations/publishing'
import { recordsOperations } from './operations/records'
import type { Operation } from './operations/shared'

export type { Operation, Parameter } from './operations/shared'

export const operations: Operation[] = [...publishingOperations, ...marketOperations, ...recordsOperations]
