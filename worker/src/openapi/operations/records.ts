// Operations, part three (in the document's order): audit, reports and this reference.
import { address, array, boolean, decimal, evidence, hex, integer, nullable, object, ref, string } from '../schemas'
import { errors, inPath, inQuery, json, UNAVAILABLE, type Errors, type Operation } from './shared'

const toBlock = inQuery('toBlock', 'last block covered (default: the indexed block)', integer())
const LEDGER_ERRORS: Errors = { 400: ['invalid_to_block'], 409: ['not_indexed_yet'] }

export const recordsOperations: Operation[] = [
  // ---- audit
  {
    method: 'get',
    path: '/api/audit/export',
    tag: 'audit',
    summary: 'The ledger export',
    description:
      'One canonical line per indexed event up to `toBlock`, in (block, log index) order, then the summary line with the RFC 6962 Merkle root. What `npm run audit` checks against the chain.',
    parameters: [toBlock],
    ok: {
      200: {
        description: 'NDJSON (headers x-ledger-chain-id, x-ledger-to-block)',
        content: { 'application/x-ndjson': string('one JSON object per line') },
      },
    },
    errors: LEDGER_ERRORS,
  },
  {
    method: 'get',
    path: '/api/audit/root',
    tag: 'audit',
    summary: 'The ledger’s Merkle root',
    description: 'The export’s summary line, plus the 10 latest roots anchored on chain.',
    parameters: [toBlock],
    ok: {
      200: {
        description: 'the summary and anchors',
        content: json({
          allOf: [
            ref('LedgerSummary'),
            object({
              anchors: array(
                object({
                  anchorId: decimal(),
                  merkleRoot: hex(32),
                  leafCount: integer(),
                  toBlock: integer(),
                  txHash: hex(32),
                  blockNumber: integer(),
                }),
              ),
            }),
          ],
        }),
      },
    },
    errors: LEDGER_ERRORS,
  },
  {
    method: 'get',
    path: '/api/audit/enclaves',
    tag: 'audit',
    summary: 'Enclave builds and keys',
    description:
      'Every measurement a supervisor approved or retired (at deployment: the deployer) and every enclave key registered, with whether it is still registered and whether its build is approved now, as indexed up to `asOfBlock`. An auditor compares it with `EnclaveRegistry` itself.',
    ok: {
      200: {
        description: 'measurements and enclaves, newest change first',
        content: json(
          object({
            chainId: integer(),
            asOfBlock: integer(),
            measurements: array(
              object({ measurement: hex(32), approved: boolean, changedBy: address, changedBlock: integer() }),
            ),
            enclaves: array(
              object({
                signer: address,
                measurement: hex(32),
                clusterPublicKey: hex(32),
                registeredBlock: integer(),
                registered: boolean,
                measurementApproved: boolean,
              }),
            ),
          }),
        ),
      },
    },
    errors: UNAVAILABLE,
  },
  {
    method: 'get',
    path: '/api/audit/events/{txHash}/{logIndex}',
    tag: 'audit',
    summary: 'One ledger event',
    description: 'The canonical ledger line of the event at that log of that transaction, as one JSON object.',
    parameters: [inPath('txHash', 'the transaction hash', hex(32)), inPath('logIndex', 'the log index', integer())],
    ok: {
      200: {
        description: 'the ledger line',
        content: json(
          object({
            chainId: integer(),
            blockNumber: integer(),
            blockHash: hex(32),
            blockTime: integer(),
            txHash: hex(32),
            logIndex: integer(),
            address,
            contract: string(),
            event: string(),
            args: { type: 'object' },
            detail: nullable({ type: 'object' }),
          }),
        ),
      },
    },
    errors: { 400: ['invalid_hash', 'invalid_log_index'], 404: ['event_not_found'] },
  },
  {
    method: 'post',
    path: '/api/audit/reindex',
    tag: 'audit',
    summary: 'Rebuild the index from the chain',
    description:
      'Drops the D1 mirror and indexes from the deployment block (R46). Authorised by the deployment secret `ADMIN_TOKEN`: it changes no right and moves no value; without the secret the endpoint is off.',
    security: 'adminToken',
    ok: {
      202: {
        description: 'reset and the first range indexed',
        content: json({
          ...object({ reset: boolean, indexedBlock: integer(), head: integer(), events: integer(), caughtUp: boolean }),
          additionalProperties: true,
        }),
      },
    },
    errors: { 401: ['unauthorized'], 403: ['admin_disabled'] },
  },
  // ---- reports
  {
    method: 'get',
    path: '/api/reports/owner/{address}',
    tag: 'reports',
    summary: 'An owner’s report',
    description:
      'Assets, sales, usage, the payment ledger and balances per currency reconciled against DataMarket on chain to the wei (R20); every line has the `evidence` of its event.',
    parameters: [inPath('address', 'the owner’s address', address)],
    ok: {
      200: {
        description: 'the report',
        content: json(
          object({
            owner: address,
            chainId: integer(),
            asOfBlock: integer(),
            assets: array({ type: 'object' }),
            sales: array({ type: 'object', properties: { evidence } }),
            usage: array({ type: 'object', properties: { evidence } }),
            ledger: array({ type: 'object', properties: { evidence } }),
            balances: array(
              object({
                currency: address,
                earned: decimal(),
                fees: decimal(),
                withdrawn: decimal(),
                balance: decimal(),
                onChainBalance: decimal(),
                reconciled: boolean,
              }),
            ),
            reconciled: boolean,
          }),
        ),
      },
    },
    errors: errors({ 400: ['invalid_address'], 404: ['owner_not_found'] }, UNAVAILABLE),
  },
  {
    method: 'get',
    path: '/api/reports/buyer/{address}',
    tag: 'reports',
    summary: 'A buyer’s report',
    description:
      'The buyer’s licences (quota and ε left at the indexed block) and the jobs they signed, newest first, at most 200 each.',
    parameters: [inPath('address', 'the buyer’s address', address)],
    ok: {
      200: {
        description: 'the report',
        content: json(
          object({
            buyer: address,
            chainId: integer(),
            asOfBlock: integer(),
            licences: array({
              type: 'object',
              description:
                'licenceId, tokenId, offerId, price, currency, expiresAt, live, jobsLeft, epsilonLeftMilli, purchasedTx',
            }),
            jobs: array({
              type: 'object',
              description:
                'jobId, licenceId, tokenId, query, queryHash, status, reason?, epsilonSpentMilli, resultHash, receiptTx, resultAvailable, createdAt',
            }),
          }),
        ),
      },
    },
    errors: { 400: ['invalid_address'] },
  },
  // ---- reference
  {
    method: 'get',
    path: '/api/openapi.json',
    tag: 'reference',
    summary: 'This API’s OpenAPI document',
    description: 'OpenAPI 3.1, the same bytes on every call (ETag; If-None-Match answers 304).',
    ok: { 200: { description: 'the document', content: json({ type: 'object' }) } },
  },
  {
    method: 'get',
    path: '/api/docs',
    tag: 'reference',
    summary: 'This API’s reference page',
    description:
      'The OpenAPI document rendered as one self-contained HTML page (no scripts, fonts or external resources).',
    ok: { 200: { description: 'the page', content: { 'text/html': string() } } },
  },
]
