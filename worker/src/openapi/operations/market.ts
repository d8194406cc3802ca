// Operations, part two (in the document's order): offers, licences, jobs and psi.
import {
  address,
  array,
  boolean,
  decimal,
  hex,
  hexData,
  integer,
  object,
  oneOf,
  psiSessionTerms,
  ref,
  string,
} from '../schemas'
import {
  errors,
  inHeader,
  inPath,
  inQuery,
  json,
  jsonBody,
  octets,
  UNAVAILABLE,
  type Errors,
  type Operation,
  type Parameter,
} from './shared'
import { PSI_TOMBSTONE_S } from '../../psi/limits'

const jobId = inPath('id', 'the job id: the EIP-712 digest of its JobRequest', hex(32))
const psiSessionId = inPath('id', 'the session id (32-byte hex)', hex(32))
const psiAuth: Parameter[] = [
  inHeader('x-psi-role', 'the party signing: A or B', oneOf('A', 'B'), true),
  inHeader('x-psi-nonce', 'a uint64, once per party', string(), true),
  inHeader('x-psi-deadline', 'unix seconds, within the signature window', string(), true),
  inHeader('x-psi-signature', 'EIP-712 PsiRequest signature by that party', hex(65), true),
]
const PSI_SESSION_ERRORS: Errors = {
  400: ['psi_bad_session_id'],
  404: ['psi_session_not_found'],
  410: ['psi_session_expired'],
}
const PSI_SIGNED_ERRORS: Errors = errors(PSI_SESSION_ERRORS, {
  400: ['psi_bad_role', 'psi_bad_deadline'],
  401: ['psi_unsigned', 'psi_bad_nonce', 'psi_stale_signature', 'psi_bad_signature', 'psi_replayed'],
  403: ['psi_not_a_party'],
  409: ['psi_awaiting_peer'],
})

export const marketOperations: Operation[] = [
  // ---- offers
  {
    method: 'get',
    path: '/api/offers',
    tag: 'offers',
    summary: 'An asset’s offers',
    description:
      'The asset’s offers as the chain holds them now, newest first (at most 100), each saying whether it sells.',
    parameters: [
      inQuery('tokenId', 'the asset’s token id', decimal(), true),
      inQuery('active', '`true`: only offers on sale now', oneOf('true', 'false')),
    ],
    ok: {
      200: { description: 'the offers', content: json(object({ tokenId: decimal(), offers: array(ref('Offer')) })) },
    },
    errors: errors({ 400: ['invalid_asset_id', 'invalid_active'], 404: ['asset_not_found'] }, UNAVAILABLE),
  },
  {
    method: 'post',
    path: '/api/offers/build',
    tag: 'offers',
    summary: 'Build a set-offer or withdraw-offer transaction',
    description:
      'The unsigned `setOffer` / `withdrawOffer` transaction for the owner’s (or delegate’s) wallet: the operator never holds an owner’s key nor sets a price (R66). What the contract would refuse and the API can tell is refused first: an asset never minted, a new offer on a revoked or frozen asset, a currency the market does not accept (the marketplace admin keeps the list of ERC-20 tokens; an ordinary account or an address without a contract is never on it), on a differentially private asset an ε budget below one query’s cost, and withdrawing an offer that does not exist or is withdrawn already. Name the sending wallet in `from` and a sender that neither owns the asset nor is its delegate is refused too (403); without it that is left to the contract.',
    body: { required: true, content: json(ref('OfferBuild')) },
    ok: { 200: { description: 'the unsigned transaction', content: json(ref('UnsignedTransaction')) } },
    errors: errors(
      {
        400: ['invalid_json', 'invalid_offer'],
        403: ['not_asset_manager'],
        404: ['asset_not_found', 'offer_not_found'],
        409: ['asset_revoked', 'asset_frozen', 'offer_inactive'],
        422: ['currency_not_allowed', 'offer_budget_below_query_cost'],
      },
      jsonBody(),
      UNAVAILABLE,
    ),
  },
  // ---- licences
  {
    method: 'post',
    path: '/api/licences/build',
    tag: 'licences',
    summary: 'Build a buy-licence transaction',
    description:
      'The unsigned `buyLicence` transaction with what it costs: price, the market fee and what the owner receives. An offer the contract would refuse is refused here first, including one priced in a token the market no longer accepts. For an ERC-20 offer the answer says which allowance the buyer’s wallet must grant the market (`approve`) before sending: the contract pulls the price with `transferFrom`.',
    body: { required: true, content: json(ref('LicenceBuild')) },
    ok: {
      200: {
        description: 'the unsigned transaction and its cost',
        content: json(
          object(
            {
              chainId: integer(),
              to: address,
              data: hexData,
              value: decimal('wei; 0 for an ERC-20 offer'),
              tokenId: decimal(),
              offerId: decimal(),
              price: decimal(),
              currency: address,
              fee: decimal(),
              ownerReceives: decimal(),
              owner: address,
              durationSeconds: integer(),
              maxJobs: integer(),
              epsilonBudgetMilli: integer(),
              approval: {
                ...object({
                  token: { ...address, description: 'the ERC-20 (the offer’s currency)' },
                  spender: { ...address, description: 'the DataMarket, which pulls the price' },
                  amount: decimal('the price, in the token’s smallest unit: approve at least this'),
                }),
                description:
                  'only for an ERC-20 offer: the allowance `buyLicence` needs (`token.approve(spender, amount)` first, or the purchase reverts)',
              },
            },
            ['approval'],
          ),
        ),
      },
    },
    errors: errors(
      {
        400: ['invalid_json', 'invalid_purchase'],
        404: ['offer_not_found'],
        409: ['offer_inactive', 'asset_revoked', 'asset_frozen', 'currency_not_allowed'],
      },
      jsonBody(),
      UNAVAILABLE,
    ),
  },
  {
    method: 'get',
    path: '/api/licences/{id}',
    tag: 'licences',
    summary: 'A licence',
    description: 'A licence as the chain holds it: quota and ε left, expiry, and whether it is live.',
    parameters: [inPath('id', 'the licence id (decimal)', decimal())],
    ok: {
      200: {
        description: 'the licence',
        content: json(
          object({
            licenceId: decimal(),
            buyer: address,
            tokenId: decimal(),
            offerId: decimal(),
            jobsLeft: integer(),
            epsilonLeftMilli: integer(),
            expiresAt: integer(),
            purchasedAt: integer(),
            live: boolean,
          }),
        ),
      },
    },
    errors: errors({ 400: ['invalid_licence_id'], 404: ['licence_not_found'] }, UNAVAILABLE),
  },
  // ---- jobs
  {
    method: 'post',
    path: '/api/jobs',
    tag: 'jobs',
    summary: 'Submit a compute job',
    description:
      'The buyer’s EIP-712 `JobRequest` (or a `MultiJobRequest` across assets, R67, with `request.parts`), its signature and the query. Checked in order — shape, query hash, deadline (10 s to 7 days ahead), signature, nonce, licence and asset rights, quota and ε, hosting, then the enclave’s side-effect-free check — and nothing is written or enqueued for a refusal. The job id is the request’s digest.',
    body: {
      required: true,
      content: json({
        ...object({
          request: {
            type: 'object',
            description:
              'JobRequest { licenceId, contentHash, queryHash, resultPublicKey, nonce, deadline } or MultiJobRequest { parts: [{ licenceId, contentHash, table }], queryHash, resultPublicKey, nonce, deadline }',
          },
          signature: hex(65),
          query: { type: 'string', minLength: 1, maxLength: 16384 },
        }),
        additionalProperties: false,
      }),
    },
    ok: {
      202: {
        description: 'queued (Location: /api/jobs/{id})',
        content: json(
          object(
            {
              jobId: hex(32),
              status: oneOf('queued'),
              licenceId: decimal(),
              tokenId: decimal(),
              deadline: integer(),
              parts: array(object({ licenceId: decimal(), tokenId: decimal(), table: string() })),
            },
            ['parts'],
          ),
        ),
      },
    },
    errors: errors(
      {
        400: ['invalid_json', 'invalid_job', 'query_hash_mismatch', 'deadline_passed', 'deadline_too_far'],
        401: ['request_signature_invalid'],
        403: ['not_licence_holder', 'licence_asset_mismatch', 'licence_expired', 'asset_revoked', 'asset_frozen'],
        404: ['licence_not_found', 'asset_not_found'],
        409: ['nonce_used', 'asset_not_hosted', 'asset_not_in_enclave'],
        422: ['query_rejected', 'policy_violation'],
        429: ['quota_exhausted', 'budget_exhausted'],
        503: ['enclave_not_approved'],
      },
      jsonBody(),
      UNAVAILABLE,
    ),
  },
  {
    method: 'get',
    path: '/api/jobs/{id}',
    tag: 'jobs',
    summary: 'A job’s status',
    description:
      'queued | running | succeeded | failed | expired, the reason of a failure (often the enclave’s own code), the receipt facts once recorded, and `index`: whether the receipt’s event is mirrored yet.',
    parameters: [jobId],
    ok: { 200: { description: 'the job', content: json(ref('Job')) } },
    errors: { 400: ['invalid_job_id'], 404: ['job_not_found'] },
  },
  {
    method: 'get',
    path: '/api/jobs/{id}/result',
    tag: 'jobs',
    summary: 'A job’s sealed result',
    description:
      'The result sealed to the request’s result key (HPKE enc ‖ ciphertext) with its signed receipt; the raw bytes with `Accept: application/octet-stream` (header x-stillflow-result-hash).',
    parameters: [jobId],
    ok: {
      200: {
        description: 'the sealed result',
        content: {
          ...json(
            object({
              jobId: hex(32),
              sealedResult: hexData,
              resultHash: hex(32),
              receipt: ref('SignedReceipt'),
              txHash: hex(32),
            }),
          ),
          ...octets,
        },
      },
    },
    errors: { 400: ['invalid_job_id'], 404: ['job_not_found'], 409: ['job_not_succeeded'], 410: ['result_deleted'] },
  },
  {
    method: 'get',
    path: '/api/jobs/{id}/receipt',
    tag: 'jobs',
    summary: 'A job’s signed receipt',
    description: 'The enclave-signed receipt, with the transaction that recorded it on ComputeLedger.',
    parameters: [jobId],
    ok: {
      200: {
        description: 'the receipt',
        content: json({
          allOf: [ref('SignedReceipt'), object({ jobId: hex(32), txHash: hex(32), blockNumber: integer() })],
        }),
      },
    },
    errors: { 400: ['invalid_job_id'], 404: ['job_not_found'], 409: ['job_not_succeeded'] },
  },
  {
    method: 'get',
    path: '/api/jobs/{id}/ciphertext',
    tag: 'jobs',
    summary: 'The asset’s ciphertext, for the enclave',
    description:
      'Streamed from IPFS for the enclave host while the job is queued or running, when no `IPFS_GATEWAY_URL` is configured. Ciphertext is public on IPFS anyway; the enclave checks its integrity.',
    parameters: [jobId],
    ok: { 200: { description: 'the ciphertext', content: octets } },
    errors: errors({ 400: ['invalid_job_id'], 404: ['job_not_found'], 409: ['job_not_running'] }, UNAVAILABLE),
  },
  {
    method: 'get',
    path: '/api/jobs/{id}/ciphertext/{part}',
    tag: 'jobs',
    summary: 'A part’s ciphertext, for the enclave',
    description: 'As `/ciphertext`, for part `part` of a job across assets (R67).',
    parameters: [jobId, inPath('part', 'the part’s index (0-based)', { type: 'string', pattern: '^[0-9]{1,2}$' })],
    ok: { 200: { description: 'the ciphertext', content: octets } },
    errors: errors(
      { 400: ['invalid_job_id'], 404: ['job_not_found', 'part_not_found'], 409: ['job_not_running'] },
      UNAVAILABLE,
    ),
  },
  // ---- psi
  {
    method: 'post',
    path: '/api/psi/sessions',
    tag: 'psi',
    summary: 'Create a PSI session',
    description:
      'The comparator of a private set intersection (R55, R61), one Durable Object per session. The creator names both parties and signs its own participation (EIP-712). The id of a session that exists, or expired less than ' +
      `${PSI_TOMBSTONE_S / 86_400} days ago, is refused (409 \`psi_session_exists\`, the message saying when it expired).`,
    body: {
      required: true,
      content: json(
        object({
          ...psiSessionTerms,
          role: oneOf('A', 'B'),
          transportKey: hex(32),
          signature: hex(65),
        }),
      ),
    },
    ok: { 201: { description: 'the session', content: json(ref('PsiSession')) } },
    errors: errors(
      {
        400: [
          'bad_request',
          'psi_bad_session_id',
          'psi_bad_chain_id',
          'psi_bad_party',
          'psi_same_party',
          'psi_bad_max_elements',
          'psi_bad_expiry',
          'psi_bad_role',
          'psi_bad_transport_key',
        ],
        401: ['psi_bad_signature'],
        403: ['psi_not_a_party'],
        409: ['psi_session_exists'],
      },
      jsonBody(),
    ),
  },
  {
    method: 'get',
    path: '/api/psi/sessions/{id}',
    tag: 'psi',
    summary: 'A PSI session',
    description:
      'Its parties, state, who has joined and their transport keys. From its expiry on, this and every other call on the session answers 410 `psi_session_expired`, with `expiredAt` and the final `commit` status, for ' +
      `${PSI_TOMBSTONE_S / 86_400} days; then 404.`,
    parameters: [psiSessionId],
    ok: { 200: { description: 'the session', content: json(ref('PsiSession')) } },
    errors: PSI_SESSION_ERRORS,
  },
  {
    method: 'post',
    path: '/api/psi/sessions/{id}/join',
    tag: 'psi',
    summary: 'Join a PSI session',
    description: 'The counterparty signs its participation and gives its transport key.',
    parameters: [psiSessionId],
    body: {
      required: true,
      content: json(object({ role: oneOf('A', 'B'), transportKey: hex(32), signature: hex(65) })),
    },
    ok: { 200: { description: 'the session', content: json(ref('PsiSession')) } },
    errors: errors(
      PSI_SESSION_ERRORS,
      {
        400: ['bad_request', 'psi_bad_role', 'psi_bad_transport_key'],
        401: ['psi_bad_signature'],
        403: ['psi_not_a_party'],
        409: ['psi_already_joined'],
      },
      jsonBody(),
    ),
  },
  {
    method: 'put',
    path: '/api/psi/sessions/{id}/relay',
    tag: 'psi',
    summary: 'Send my encrypted list to the peer',
    description:
      'A party’s list for its peer, sealed to the peer’s transport key: 32 bytes per element plus a 16-byte tag. Sending the same bytes again (a retry whose reply was lost, even the same signed request) is answered as the first time and changes nothing; other bytes are refused (409 `psi_already_sent`).',
    parameters: [psiSessionId, ...psiAuth],
    body: { required: true, content: octets },
    ok: { 200: { description: 'stored', content: json(object({ bytes: integer() })) } },
    errors: errors(PSI_SIGNED_ERRORS, {
      400: ['psi_bad_relay'],
      409: ['psi_already_sent'],
      413: ['psi_too_many_elements'],
    }),
  },
  {
    method: 'get',
    path: '/api/psi/sessions/{id}/relay',
    tag: 'psi',
    summary: 'Fetch the peer’s encrypted list',
    description: 'The list the peer relayed to the signing party.',
    parameters: [psiSessionId, ...psiAuth],
    ok: { 200: { description: 'the peer’s relay message', content: octets } },
    errors: errors(PSI_SIGNED_ERRORS, { 409: ['psi_peer_not_sent'] }),
  },
  {
    method: 'put',
    path: '/api/psi/sessions/{id}/blinded',
    tag: 'psi',
    summary: 'Send my blinded list to the comparator',
    description:
      '32 bytes per element, as many as the peer’s list; once both are in, the comparator compares them. Sending the same bytes again (a retry whose reply was lost, even the same signed request) answers the session’s state and changes nothing; other bytes are refused (409 `psi_already_sent`).',
    parameters: [psiSessionId, ...psiAuth],
    body: { required: true, content: octets },
    ok: {
      200: {
        description: 'the session’s state',
        content: json(object({ state: oneOf('awaiting-peer', 'exchanging', 'comparing', 'done') })),
      },
    },
    errors: errors(PSI_SIGNED_ERRORS, {
      400: ['psi_bad_blinded', 'psi_count_mismatch'],
      409: ['psi_already_sent', 'psi_peer_not_sent'],
      413: ['psi_too_many_elements'],
    }),
  },
  {
    method: 'get',
    path: '/api/psi/sessions/{id}/result',
    tag: 'psi',
    summary: 'The intersection, for the signing party',
    description:
      'The positions in the asking party’s list that the peer also holds, with the transcript hash and its on-chain commitment.',
    parameters: [psiSessionId, ...psiAuth],
    ok: { 200: { description: 'the result', content: json(ref('PsiResult')) } },
    errors: errors(PSI_SIGNED_ERRORS, { 409: ['psi_not_compared'] }),
  },
]
