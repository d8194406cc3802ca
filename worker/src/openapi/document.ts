// The OpenAPI 3.1 document (GET /api/openapi.json): each operation in the table turned into an OpenAPI
// operation object, with its error codes as responses, under the tags and shared schemas.
import { schemas, string, type JsonSchema } from './schemas'
import { operations, type Operation, type Parameter } from './operations'

const TAGS: Array<{ name: string; description: string }> = [
  { name: 'health', description: 'Whether each component of the marketplace answers.' },
  { name: 'chain', description: 'The chain and contracts, for wallets and verifiers.' },
  { name: 'enclave', description: 'The enclave’s attestation.' },
  { name: 'auth', description: 'Sign-In with Ethereum (EIP-4361) sessions.' },
  { name: 'assets', description: 'The catalogue, an asset’s detail, history and relations, and publishing.' },
  { name: 'uploads', description: 'Tickets to upload ciphertext straight to IPFS.' },
  { name: 'publications', description: 'Publish requests and their status.' },
  { name: 'verify', description: 'Whether a file is a registered asset (R15).' },
  { name: 'offers', description: 'Licence terms for sale; the owner’s wallet signs them.' },
  { name: 'licences', description: 'Buying and reading licences.' },
  { name: 'jobs', description: 'Compute jobs, their sealed results and signed receipts.' },
  { name: 'psi', description: 'The private-set-intersection comparator.' },
  { name: 'audit', description: 'The ledger export, its Merkle root, single events, and reindexing.' },
  { name: 'reports', description: 'An owner’s and a buyer’s facts, each with its evidence.' },
  { name: 'reference', description: 'This description of the API.' },
]

export const STATUS_TEXT: Record<number, string> = {
  400: 'Bad request',
  401: 'Not authenticated',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  502: 'Upstream failed',
  503: 'Unavailable',
}

/** The error body narrowed to the codes a response may carry. */
function errorBody(codes: string[]): JsonSchema {
  return {
    type: 'object',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: { type: 'string', enum: codes }, message: string() },
        additionalProperties: true,
      },
    },
  }
}

/** `getJobsIdResult` for GET /api/jobs/{id}/result. */
function operationId(op: Operation): string {
  const words = op.path
    .replace(/^\/api\//, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
  return op.method + words.map((w) => w[0].toUpperCase() + w.slice(1)).join('')
}

interface ResponseObject {
  description: string
  content?: Record<string, { schema: JsonSchema }>
  'x-error-codes'?: string[]
}

export interface OperationObject {
  operationId: string
  tags: string[]
  summary: string
  description: string
  parameters?: Parameter[]
  requestBody?: { required: boolean; description?: string; content: Record<string, { schema: JsonSchema }> }
  responses: Record<string, ResponseObject>
  security?: Array<Record<string, string[]>>
}

const media = (content: Record<string, JsonSchema>) =>
  Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema }]))

function describeOperation(op: Operation): OperationObject {
  const responses: Record<string, ResponseObject> = {}
  for (const [status, r] of Object.entries(op.ok)) {
    responses[status] = {
      description: r.description,
      ...(r.content ? { content: media(r.content) } : {}),
    }
  }
  // Every request that is not a read may meet the per-client limit (middleware/rate-limit.ts).
  const errors =
    op.method === 'get' ? (op.errors ?? {}) : { ...op.errors, 429: [...(op.errors?.[429] ?? []), 'rate_limited'] }
  for (const [status, codes] of Object.entries(errors).sort(([a], [b]) => Number(a) - Number(b))) {
    if (!codes?.length || responses[status]) continue
    responses[status] = {
      description: `${STATUS_TEXT[Number(status)] ?? 'Error'}: ${codes.join(', ')}`,
      'x-error-codes': codes,
      content: { 'application/json': { schema: errorBody(codes) } },
    }
  }
  return {
    operationId: operationId(op),
    tags: [op.tag],
    summary: op.summary,
    description: op.description,
    ...(op.parameters?.length ? { parameters: op.parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: op.body.required,
            ...(op.body.description ? { description: op.body.description } : {}),
            content: media(op.body.content),
          },
        }
      : {}),
    responses,
    ...(op.security ? { security: [{ [op.security]: [] }] } : {}),
  }
}

/** The OpenAPI 3.1 document of every operation the worker serves. */
export function openApiDocument() {
  const paths: Record<string, Partial<Record<Operation['method'], OperationObject>>> = {}
  for (const op of operations) (paths[op.path] ??= {})[op.method] = describeOperation(op)
  return {
    openapi: '3.1.0',
    info: {
      title: 'Stillflow API',
      version: '0.1.0',
      description: [
        'The Stillflow data marketplace: datasets published as NFTs, licences sold on chain, compute jobs run in an enclave that returns sealed results and signed receipts.',
        'Errors are always `{ "error": { "code", "message", … } }`: a 4xx with a stable machine-readable `code` for the caller’s mistakes, a bare 500 `internal` for ours, 503 `service_unavailable` when a component cannot be reached.',
        'JSON bodies must say `Content-Type: application/json` (415 `unsupported_media_type` otherwise) and fit the route’s size limit (413, before parsing). A path called with a method it does not have answers 405 `method_not_allowed` with `Allow`; only an unknown path is 404 `not_found`.',
        'Sessions are Sign-In with Ethereum (`/api/auth`); state-changing requests are authorised by the caller’s own EIP-712 signature (Publish, UploadIntent, JobRequest, PsiRequest) or built unsigned for the caller’s wallet.',
      ].join('\n\n'),
    },
    tags: TAGS,
    paths,
    components: {
      schemas,
      securitySchemes: {
        siwe: {
          type: 'http',
          scheme: 'bearer',
          description: 'A Sign-In with Ethereum session token from `POST /api/auth/login`.',
        },
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description: 'The deployment secret `ADMIN_TOKEN`.',
        },
      },
    },
  }
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>
