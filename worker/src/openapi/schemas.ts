// The JSON Schema vocabulary the OpenAPI document is written in: shorthands for common shapes, and the
// shapes several operations share (`components.schemas`), request bodies taken from the routes' own zod schemas.
import { z } from 'zod'
import { declarationSchema, manifestSchema } from '../routes/assets'
import { buildSchema as purchaseSchema } from '../routes/licences'
import { buildSchema as offerSchema } from '../routes/offers'
import { READ_METHODS } from '../routes/rpc'
import { intentSchema } from '../routes/uploads'

/** A JSON Schema (draft 2020-12, OpenAPI 3.1's dialect). */
export type JsonSchema = Record<string, unknown>

// ---- JSON Schema shorthands ----------------------------------------------------------------------------

export const string = (description?: string): JsonSchema => ({
  type: 'string',
  ...(description ? { description } : {}),
})
export const integer = (description?: string): JsonSchema => ({
  type: 'integer',
  ...(description ? { description } : {}),
})
export const boolean: JsonSchema = { type: 'boolean' }
export const hex = (bytes: number, description?: string): JsonSchema => ({
  ...string(description),
  pattern: `^0x[0-9a-fA-F]{${bytes * 2}}$`,
})
export const address: JsonSchema = { type: 'string', pattern: '^0x[0-9a-fA-F]{40}$' }
export const hexData: JsonSchema = { type: 'string', pattern: '^0x([0-9a-fA-F]{2})*$' }
/** A uint256 (token, offer or licence id, an amount in wei) as a decimal string. */
export const decimal = (description?: string): JsonSchema => ({
  ...string(description),
  pattern: '^(0|[1-9][0-9]{0,77})$',
})
export const oneOf = (...values: string[]): JsonSchema => ({ type: 'string', enum: values })
export const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] })
export const array = (items: JsonSchema): JsonSchema => ({ type: 'array', items })
export const ref = (name: SchemaName): JsonSchema => ({ $ref: `#/components/schemas/${name}` })
/** An object whose listed properties are all present unless named in `optional`. */
export function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
  return { type: 'object', properties, required: Object.keys(properties).filter((k) => !optional.includes(k)) }
}

/**
 * A request body's JSON Schema from the route's own zod schema: the input side (what a caller sends),
 * so transforms and refinements drop out and a defaulted field is optional.
 */
function fromZod(schema: z.ZodType): JsonSchema {
  const { $schema: _dialect, ...json } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    // A bigint default (an offer's `purposes`) travels as a decimal string, so it is shown as one.
    override: ({ zodSchema, jsonSchema }) => {
      const def = (zodSchema as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def
      if (def.type === 'default' && typeof def.defaultValue === 'bigint') jsonSchema.default = String(def.defaultValue)
    },
  })
  return json as JsonSchema
}

// ---- Shared shapes -------------------------------------------------------------------------------------

export const evidence = object({
  chainId: integer(),
  blockNumber: integer(),
  txHash: hex(32),
  logIndex: integer(),
  href: string(),
})
export const contracts = {
  type: 'object',
  description: 'Address-book name (DataAssetNFT, DataMarket, EnclaveRegistry, ComputeLedger, …) → address',
  additionalProperties: address,
}

type SchemaName =
  | 'Error'
  | 'PublishManifest'
  | 'AssetDeclaration'
  | 'UploadIntent'
  | 'OfferBuild'
  | 'LicenceBuild'
  | 'DirectUpload'
  | 'UnsignedTransaction'
  | 'PublishOutcome'
  | 'Publication'
  | 'Offer'
  | 'Job'
  | 'SignedReceipt'
  | 'PsiSession'
  | 'PsiResult'
  | 'LedgerSummary'
  | 'RpcRequest'

const manifest = fromZod(manifestSchema) as JsonSchema & { properties: Record<string, JsonSchema> }

/** What a PSI session is: named when it is created, shown when it is described. */
export const psiSessionTerms = {
  sessionId: hex(32),
  chainId: integer(),
  partyA: address,
  partyB: address,
  maxElements: integer(),
  expiresAt: integer('unix seconds'),
}

/** Shapes several operations share: `components.schemas`. Request bodies with a zod schema come from it. */
export const schemas: Record<SchemaName, JsonSchema> = {
  Error: {
    type: 'object',
    description: 'Every refusal: a machine-readable, stable `code`, a human message, and sometimes extra facts.',
    required: ['error'],
    properties: {
      error: {
        type: 'object',
        required: ['code', 'message'],
        properties: { code: string(), message: string() },
        additionalProperties: true,
      },
    },
  },
  PublishManifest: {
    ...manifest,
    description: 'The x-stillflow-manifest header, decoded (base64url JSON).',
    properties: {
      ...manifest.properties,
      // The declaration is itself base64url JSON: say what it decodes to.
      declaration: {
        ...manifest.properties.declaration,
        contentEncoding: 'base64url',
        contentMediaType: 'application/json',
        contentSchema: ref('AssetDeclaration'),
      },
    },
  },
  AssetDeclaration: {
    ...fromZod(declarationSchema),
    description:
      'The metadata the owner signs (the manifest’s `declaration`, decoded): its SHA-256 is anchored on chain.',
  },
  UploadIntent: fromZod(intentSchema),
  OfferBuild: fromZod(offerSchema),
  LicenceBuild: fromZod(purchaseSchema),
  DirectUpload: object({
    url: string('PUT the ciphertext here with the ticket in x-stillflow-ticket'),
    ticket: string(),
    size: integer(),
    expiresAt: string(),
  }),
  UnsignedTransaction: object({ chainId: integer(), to: address, data: hexData, value: decimal('wei') }),
  PublishOutcome: object({
    id: string('publication id (UUID)'),
    status: oneOf('minted'),
    tokenId: decimal(),
    txHash: hex(32),
    chainId: integer(),
    owner: address,
    contentHash: hex(32),
    ciphertextCid: string(),
    declarationCid: string(),
    metadataCid: string(),
    metadataDigest: hex(32),
    ingest: {
      type: 'object',
      description: 'the enclave’s signed ingest summary: receipt, signature, signer, schema, statistics',
    },
  }),
  Publication: object(
    {
      id: string(),
      status: oneOf('pending', 'minted', 'failed'),
      step: oneOf('validate', 'upload', 'ingest', 'metadata', 'mint'),
      error: {
        ...object({ code: string(), message: string(), status: integer() }, ['status']),
        description: 'when failed',
      },
      retrying: {
        ...object({ code: string(), message: string() }),
        description: 'a pending step waiting out an outage',
      },
      result: { ...ref('PublishOutcome'), description: 'when minted' },
      owner: address,
      contentHash: hex(32),
      ciphertextCid: nullable(string()),
      metadataCid: nullable(string()),
      chainId: integer(),
      tokenId: nullable(decimal()),
      txHash: nullable(hex(32)),
      createdAt: string(),
      updatedAt: string(),
    },
    ['error', 'retrying', 'result'],
  ),
  Offer: object(
    {
      tokenId: decimal(),
      offerId: decimal(),
      owner: address,
      price: decimal('wei, or the ERC-20’s smallest unit'),
      currency: address,
      durationSeconds: integer(),
      maxJobs: integer(),
      epsilonBudgetMilli: integer(),
      purposes: integer('bit set of allowed purposes'),
      active: boolean,
      inactive: {
        ...oneOf(
          'withdrawn',
          'previous_owner',
          'set_before_transfer',
          'asset_revoked',
          'asset_frozen',
          'currency_not_allowed',
        ),
        description: 'why it does not sell, in the order DataMarket.buyLicence checks (when `active` is false)',
      },
    },
    ['inactive'],
  ),
  Job: object(
    {
      jobId: hex(32),
      status: oneOf('queued', 'running', 'succeeded', 'failed', 'expired'),
      reason: object({ code: string(), message: string() }),
      chainId: integer(),
      buyer: address,
      licenceId: decimal(),
      tokenId: decimal(),
      contentHash: hex(32),
      queryHash: hex(32),
      parts: array(
        object(
          {
            licenceId: decimal(),
            tokenId: decimal(),
            contentHash: hex(32),
            table: string(),
            epsilonSpentMilli: integer(),
          },
          ['epsilonSpentMilli'],
        ),
      ),
      deadline: integer('unix seconds'),
      attempts: integer(),
      retrying: object({ code: string(), message: string() }),
      createdAt: integer(),
      updatedAt: integer(),
      finishedAt: nullable(integer()),
      receipt: object({
        txHash: hex(32),
        blockNumber: integer(),
        resultHash: hex(32),
        epsilonSpentMilli: integer(),
        measurement: hex(32),
      }),
      resultAvailable: boolean,
      resultExpiresAt: nullable(integer()),
      index: oneOf('pending', 'indexed', 'failed'),
    },
    ['reason', 'parts', 'retrying', 'receipt', 'resultAvailable', 'resultExpiresAt'],
  ),
  SignedReceipt: object({
    receipt: object({
      jobId: hex(32),
      licenceId: decimal(),
      contentHash: hex(32),
      queryHash: hex(32),
      resultHash: hex(32),
      epsilonSpentMilli: integer(),
      measurement: hex(32),
    }),
    signature: hex(65, 'r ‖ s ‖ v by the enclave signer'),
    signer: address,
    chainId: integer(),
    computeLedger: address,
  }),
  PsiSession: object(
    {
      ...psiSessionTerms,
      state: oneOf('awaiting-peer', 'exchanging', 'comparing', 'done'),
      joined: object({ A: boolean, B: boolean }),
      transportKeys: object({ A: hex(32), B: hex(32) }, ['A', 'B']),
      commit: { type: 'object', description: 'the on-chain commitment of the transcript, once compared' },
    },
    ['commit'],
  ),
  PsiResult: object(
    {
      positions: array(integer()),
      intersectionSize: integer(),
      transcriptHash: hex(32),
      sizes: object({ A: integer(), B: integer() }),
      digests: { type: 'object', description: 'SHA-256 of each message the comparator received' },
      commit: { type: 'object' },
    },
    ['commit'],
  ),
  LedgerSummary: object({
    chainId: integer(),
    toBlock: integer(),
    leafCount: integer(),
    merkleRoot: hex(32),
    tree: oneOf('RFC6962-SHA256'),
  }),
  // Hand-written: routes/rpc.ts checks each call in code.
  RpcRequest: object(
    {
      jsonrpc: oneOf('2.0'),
      id: { type: ['integer', 'string', 'null'] },
      method: oneOf(...READ_METHODS),
      params: { type: 'array' },
    },
    ['id', 'params'],
  ),
}
