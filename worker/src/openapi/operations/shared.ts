// What an operation is made of: the Operation shape the table is written in, and the parameter, body and
// error helpers that every resource's entries share.
import type { JsonSchema } from '../schemas'

export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header'
  required?: boolean
  description: string
  schema: JsonSchema
}

/** Error codes by HTTP status; each becomes a response whose `error.code` is one of them. */
export type Errors = Partial<Record<number, string[]>>

export interface Operation {
  method: 'get' | 'post' | 'put'
  /** The full path in OpenAPI form, e.g. `/api/jobs/{id}`. */
  path: string
  tag: string
  summary: string
  description: string
  parameters?: Parameter[]
  body?: { required: boolean; description?: string; content: Record<string, JsonSchema> }
  /** Success answers by status; `content` maps media types to schemas. */
  ok: Record<number, { description: string; content?: Record<string, JsonSchema> }>
  errors?: Errors
  security?: 'siwe' | 'adminToken'
}

export const inPath = (name: string, description: string, schema: JsonSchema): Parameter => ({
  name,
  in: 'path',
  required: true,
  description,
  schema,
})
export const inQuery = (name: string, description: string, schema: JsonSchema, required = false): Parameter => ({
  name,
  in: 'query',
  required,
  description,
  schema,
})
export const inHeader = (name: string, description: string, schema: JsonSchema, required = false): Parameter => ({
  name,
  in: 'header',
  required,
  description,
  schema,
})

export const json = (schema: JsonSchema) => ({ 'application/json': schema })
export const octets = { 'application/octet-stream': { type: 'string', contentMediaType: 'application/octet-stream' } }

/** Errors that many operations share, merged per status by `errors()`. */
export const UNAVAILABLE: Errors = { 503: ['service_unavailable'] }
export const jsonBody = (tooLarge = 'request_too_large'): Errors => ({
  413: [tooLarge],
  415: ['unsupported_media_type'],
})
export const SESSION: Errors = { 401: ['session_required', 'session_expired'] }

export function errors(...parts: Errors[]): Errors {
  const merged: Errors = {}
  for (const part of parts)
    for (const [status, codes] of Object.entries(part)) {
      const list = (merged[Number(status)] ??= [])
      for (const code of codes ?? []) if (!list.includes(code)) list.push(code)
    }
  return merged
}
