// Operations, part one (in the document's order): health, chain, enclave, auth, assets, uploads,
// publications and verify.
import {
  address,
  array,
  boolean,
  contracts,
  decimal,
  hex,
  hexData,
  integer,
  nullable,
  object,
  oneOf,
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
  SESSION,
  UNAVAILABLE,
  type Operation,
} from './shared'

const assetId = inPath('id', 'the asset’s token id (decimal uint256)', decimal())

export const publishingOperations: Operation[] = [
  // ---- health
  {
    method: 'get',
    path: '/api/health',
    tag: 'health',
    summary: 'Health of each component',
    description:
      'Probes the chain (chainId, block, contract addresses with code), IPFS (version, repo size), the enclave (measurement, signer) and D1 (migration), each `ok` or with a reason. Public: a reason never names an address. 503 with the same body when any component is down.',
    ok: {
      200: {
        description: 'every component is ok',
        content: json(
          object({
            ok: boolean,
            components: object({
              chain: { type: 'object' },
              ipfs: { type: 'object' },
              enclave: { type: 'object' },
              d1: { type: 'object' },
            }),
          }),
        ),
      },
      503: { description: 'some component is down: the same report, its `ok` false, each failing one with `reason`' },
    },
  },
  // ---- chain
  {
    method: 'get',
    path: '/api/chain',
    tag: 'chain',
    summary: 'The chain and contracts',
    description: 'The address book this marketplace uses (R42: configuration, not code).',
    ok: {
      200: {
        description: 'the address book',
        content: json(object({ chainId: integer(), contracts, deployedAtBlock: integer() })),
      },
    },
    errors: UNAVAILABLE,
  },
  {
    method: 'get',
    path: '/api/wallet',
    tag: 'chain',
    summary: 'What a browser wallet needs',
    description:
      'Chain id, contracts and deployment block. `rpcUrl` and `devWallet` (hardhat’s public test mnemonic) are set only when the chain id is 31337, `CHAIN_RPC_URL` is on loopback and the node calls itself HardhatNetwork; otherwise both are null.',
    ok: {
      200: {
        description: 'the wallet configuration',
        content: json(
          object({
            chainId: integer(),
            contracts,
            deployedAtBlock: integer(),
            rpcUrl: nullable(string()),
            devWallet: nullable(object({ mnemonic: string(), accounts: array(integer()), warning: string() })),
          }),
        ),
      },
    },
    errors: UNAVAILABLE,
  },
  {
    method: 'post',
    path: '/api/rpc',
    tag: 'chain',
    summary: 'Read-only JSON-RPC to the chain',
    description:
      'For the in-browser receipt check on /verify: `eth_chainId`, `net_version`, `eth_blockNumber`, `eth_call`, `eth_getLogs`, `eth_getCode`, `eth_getTransactionByHash`, `eth_getTransactionReceipt`, `eth_getBlockByNumber`, `eth_getBlockByHash` only; calls and log queries only about the address book’s contracts; at most 20 calls per batch, 16 KiB requests, 1 MiB answers.',
    body: {
      required: true,
      description: 'a JSON-RPC 2.0 request or a batch of them',
      content: json({
        anyOf: [ref('RpcRequest'), { type: 'array', minItems: 1, maxItems: 20, items: ref('RpcRequest') }],
      }),
    },
    ok: {
      200: {
        description: 'the chain’s answer, passed on as is',
        content: json({ description: 'JSON-RPC 2.0 response(s)' }),
      },
    },
    errors: errors(
      {
        400: [
          'invalid_json',
          'invalid_rpc_request',
          'rpc_method_not_allowed',
          'rpc_target_not_allowed',
          'rpc_batch_too_large',
          'rpc_block_out_of_range',
        ],
        502: ['rpc_upstream_failed', 'rpc_response_too_large'],
      },
      jsonBody('rpc_request_too_large'),
      UNAVAILABLE,
    ),
  },
  // ---- enclave
  {
    method: 'get',
    path: '/api/enclave',
    tag: 'enclave',
    summary: 'The enclave’s attestation',
    description:
      'Relays the enclave’s attestation for the caller’s fresh nonce, with the chain it serves. The client checks the quote and the chain itself (DESIGN §3, Publish step 1).',
    parameters: [inQuery('nonce', '32 random bytes, 0x-hex', hex(32), true)],
    ok: {
      200: {
        description: 'the attestation',
        content: json(
          object({
            attestation: { type: 'object', description: 'the enclave host’s quote and keys' },
            chainId: integer(),
            contracts,
          }),
        ),
      },
    },
    errors: errors({ 400: ['invalid_nonce'] }, UNAVAILABLE),
  },
  // ---- auth
  {
    method: 'post',
    path: '/api/auth/nonce',
    tag: 'auth',
    summary: 'A Sign-In with Ethereum nonce',
    description: 'A nonce for an EIP-4361 message, valid for 10 minutes and spent by the first login that uses it.',
    ok: { 200: { description: 'a fresh nonce', content: json(object({ nonce: string(), expiresAt: string() })) } },
  },
  {
    method: 'post',
    path: '/api/auth/login',
    tag: 'auth',
    summary: 'Sign in (SIWE)',
    description:
      'Exchanges a signed EIP-4361 message (naming this host, this chain and a live nonce) for a session token of at most 7 days; send it as `Authorization: Bearer <token>`.',
    body: {
      required: true,
      content: json(
        object({ message: { ...string('the EIP-4361 message text'), maxLength: 4000 }, signature: hexData }),
      ),
    },
    ok: { 201: { description: 'signed in', content: json(object({ token: string(), address, expiresAt: string() })) } },
    errors: errors(
      { 400: ['invalid_login'], 401: ['wrong_domain', 'wrong_chain', 'invalid_nonce', 'invalid_signature'] },
      jsonBody(),
    ),
  },
  {
    method: 'get',
    path: '/api/auth/me',
    tag: 'auth',
    summary: 'Who is signed in',
    description: 'The address of the session’s account.',
    security: 'siwe',
    ok: { 200: { description: 'the session’s address', content: json(object({ address })) } },
    errors: SESSION,
  },
  {
    method: 'post',
    path: '/api/auth/logout',
    tag: 'auth',
    summary: 'Sign out',
    description: 'Ends the session the bearer token names.',
    security: 'siwe',
    ok: { 204: { description: 'signed out' } },
    errors: SESSION,
  },
  // ---- assets
  {
    method: 'get',
    path: '/api/assets',
    tag: 'assets',
    summary: 'Search and browse the catalogue',
    description:
      'Full-text search (FTS5, word prefixes; Han, Hiragana and Katakana runs match as phrases), filters and sorts over indexed assets, a cursor page at a time. `popular` = licences sold + jobs recorded (the home page’s featured). Every parameter is validated and an unknown one is refused.',
    parameters: [
      inQuery('q', 'free text, at most 200 characters and 8 words', string()),
      inQuery('tag', 'a tag; repeat for several (at most 5, all required)', string()),
      inQuery('format', 'dataset format', oneOf('csv', 'jsonl')),
      inQuery('policy', 'privacy policy kind', oneOf('dp', 'aggregates-only')),
      inQuery('owner', 'the owner’s address', address),
      inQuery('minPrice', 'lowest offer price, in wei', decimal()),
      inQuery('maxPrice', 'highest offer price, in wei', decimal()),
      inQuery('sort', 'order (default newest)', oneOf('newest', 'price', 'popular')),
      inQuery('limit', 'page size, 1..50 (default 20)', { type: 'integer', minimum: 1, maximum: 50 }),
      inQuery('cursor', 'the `next` of a previous page with the same sort', string()),
    ],
    ok: {
      200: {
        description: 'one page',
        content: json(
          object({
            chainId: integer(),
            indexedBlock: integer(),
            items: array(
              object({
                chainId: integer(),
                tokenId: decimal(),
                status: oneOf('indexed'),
                title: nullable(string()),
                description: string(),
                tags: array(string()),
                owner: address,
                contentHash: hex(32),
                mintedTime: integer(),
                mintedTx: hex(32),
                frozen: boolean,
                format: nullable(string()),
                policyKind: nullable(string()),
                rowCount: nullable(integer()),
                columnCount: nullable(integer()),
                price: nullable(object({ amount: decimal(), currency: address })),
                offerCount: integer(
                  'offers on sale at the indexed block (one priced in an ERC-20 only while the market accepts that token)',
                ),
                usage: object({ licences: integer(), jobs: integer() }),
              }),
            ),
            next: nullable(string()),
          }),
        ),
      },
    },
    errors: {
      400: [
        'invalid_q',
        'invalid_tag',
        'invalid_format',
        'invalid_policy',
        'invalid_owner',
        'invalid_min_price',
        'invalid_max_price',
        'invalid_price_range',
        'invalid_sort',
        'invalid_limit',
        'invalid_cursor',
        'unknown_parameter',
      ],
    },
  },
  {
    method: 'post',
    path: '/api/assets',
    tag: 'assets',
    summary: 'Publish a dataset',
    description:
      'The data-owner upload API. Checked before a byte is read: the manifest (the owner’s signed declaration, EIP-712 `Publish` signature, deadline at least 60 s ahead, wrapped key), the chain and contract, the signature, and that the content is not minted yet. Then upload (IPFS, the CID must be the signed one), enclave ingest, metadata and the relayer’s mint, each step recorded; a failure undoes earlier steps and its error names the `step`. `x-stillflow-upload: direct` answers 202 with a single-use upload ticket instead (PUT the ciphertext to IPFS’s uploader), and `uploaded` finishes such an upload: 202, then poll `GET /api/publications/{id}`. A retry with the same Idempotency-Key returns the finished answer (200).',
    parameters: [
      inHeader(
        'Idempotency-Key',
        '1–128 letters, digits, _ . : - ; a retry never publishes twice',
        { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,128}$' },
        true,
      ),
      inHeader(
        'x-stillflow-manifest',
        'base64url JSON: the signed manifest',
        {
          type: 'string',
          contentEncoding: 'base64url',
          contentMediaType: 'application/json',
          contentSchema: ref('PublishManifest'),
        },
        true,
      ),
      inHeader(
        'x-stillflow-upload',
        'absent: the ciphertext is the body; direct: ask for a ticket; uploaded: finish a ticketed upload',
        oneOf('direct', 'uploaded'),
      ),
    ],
    body: {
      required: false,
      description: 'the chunked ciphertext, streamed (only without x-stillflow-upload)',
      content: octets,
    },
    ok: {
      200: { description: 'a retry of a finished request: its answer', content: json(ref('PublishOutcome')) },
      201: { description: 'minted', content: json(ref('PublishOutcome')) },
      202: {
        description:
          'direct: `{ id, status: "pending", step: "upload", upload }`; uploaded: `{ id, status: "pending", step: "ingest", poll }`',
        content: json(
          object(
            {
              id: string(),
              status: oneOf('pending'),
              step: oneOf('upload', 'ingest'),
              upload: ref('DirectUpload'),
              poll: string(),
            },
            ['upload', 'poll'],
          ),
        ),
      },
    },
    errors: errors(
      {
        400: [
          'idempotency_key_required',
          'manifest_required',
          'invalid_manifest',
          'invalid_metadata',
          'invalid_upload_mode',
          'invalid_owner',
          'body_required',
        ],
        401: ['invalid_signature'],
        409: ['already_published', 'publish_in_progress', 'publish_failed', 'upload_not_started', 'upload_missing'],
        413: ['upload_too_large'],
        422: [
          'invalid_metadata',
          'wrong_chain',
          'signature_expired',
          'idempotency_key_reused',
          'direct_upload_unavailable',
          'ciphertext_cid_mismatch',
          'ciphertext_integrity',
          'content_hash_mismatch',
          'dataset_format',
          'mint_refused',
        ],
        429: ['too_many_uploads'],
        502: ['ipfs_unavailable', 'enclave_unavailable', 'chain_unavailable'],
        503: ['paused', 'interrupted'],
      },
      UNAVAILABLE,
    ),
  },
  {
    method: 'get',
    path: '/api/metadata/{id}',
    tag: 'assets',
    summary: 'An asset’s ERC-721 metadata (its tokenURI)',
    description:
      'The JSON wallets and NFT marketplaces read through `tokenURI` (DataAssetNFT: base + id; a deployment sets the base to this route): OpenSea’s metadata standard — `name`, `description`, `image` when given, `attributes` — plus the `stillflow` extension (content hash, ciphertext CID, policy, lawful basis). Served byte for byte as the owner signed it; `x-stillflow-metadata-digest` is its SHA-256, which the chain anchors in AssetMinted or the latest AssetAmended.',
    parameters: [assetId],
    ok: { 200: { description: 'the metadata JSON', content: json({ type: 'object' }) } },
    errors: { 400: ['invalid_asset_id'], 404: ['asset_not_found'], 503: ['metadata_unavailable'] },
  },
  {
    method: 'get',
    path: '/api/assets/{id}',
    tag: 'assets',
    summary: 'An asset’s detail',
    description:
      'Everything public about one asset: index status, title, tags, owner, revoked/frozen, mint, format, policy, lawful basis, hashes and CIDs, sizes, the enclave’s signed ingest summary (schema, statistics, measurement), the market fee and every offer with its fee split and whether it sells, and usage. A minted publication not yet indexed answers with `status: "pending"`.',
    parameters: [assetId],
    ok: {
      200: {
        description: 'the asset',
        content: json({
          ...object({
            chainId: integer(),
            tokenId: decimal(),
            indexedBlock: integer(),
            status: oneOf('indexed', 'pending'),
            title: nullable(string()),
            description: nullable(string()),
            tags: array(string()),
            owner: address,
            revoked: boolean,
            frozen: boolean,
            freezeReason: nullable(
              string(
                'when frozen: the supervisor’s bytes32 reason as text when it is a zero-padded printable string, else its hex; null when none was given',
              ),
            ),
            mint: object({ txHash: nullable(hex(32)), blockNumber: nullable(integer()), time: nullable(integer()) }),
            format: nullable(string()),
            policy: nullable({ type: 'object' }),
            contentHash: nullable(hex(32)),
            metadataDigest: nullable(hex(32)),
            cids: object({
              ciphertext: nullable(string()),
              declaration: nullable(string()),
              metadata: nullable(string()),
            }),
            feeBps: integer(),
            offers: array({
              type: 'object',
              description:
                'offerId, price, currency, totalCost, fee, ownerReceives, durationSeconds, maxJobs, epsilonBudgetMilli, purposes, live, inactive? (as Offer.inactive, at the indexed block), setTx',
            }),
            usage: object({ receipts: integer(), epsilonSpentMilli: integer(), licences: integer() }),
          }),
          description:
            'also metadataStatus, contract, lawfulBasis, sizes, measurement, schema, rowCount, statistics, ingest',
        }),
      },
    },
    errors: { 400: ['invalid_asset_id'], 404: ['asset_not_found'] },
  },
  {
    method: 'get',
    path: '/api/assets/{id}/history',
    tag: 'assets',
    summary: 'An asset’s timeline',
    description:
      'Every indexed event about the asset and its licences in ledger order (R8): mint, transfer, amend, revoke, freeze/unfreeze, delegate, royalty, offer, offer-withdrawn, licence, licence-consumed, job, job-part, group-job. An asset published here but not mirrored yet answers `pending` (or `failed`) with no events.',
    parameters: [
      assetId,
      inQuery('limit', 'events per page, 1..500 (default 100)', { type: 'integer', minimum: 1, maximum: 500 }),
      inQuery('after', '`<blockNumber>:<logIndex>`: the `next` of a previous page', {
        type: 'string',
        pattern: '^[0-9]+:[0-9]+$',
      }),
    ],
    ok: {
      200: {
        description: 'one page of events',
        content: json(
          object({
            chainId: integer(),
            tokenId: decimal(),
            contract: nullable(address),
            status: oneOf('indexed', 'pending', 'failed'),
            indexedBlock: integer(),
            events: array(
              object({
                kind: string(),
                contract: string(),
                event: string(),
                blockNumber: integer(),
                blockTime: integer(),
                txHash: hex(32),
                logIndex: integer(),
                args: { type: 'object' },
              }),
            ),
            next: nullable(string()),
          }),
        ),
      },
    },
    errors: { 400: ['invalid_asset_id', 'invalid_limit', 'invalid_cursor'], 404: ['asset_not_found'] },
  },
  {
    method: 'get',
    path: '/api/assets/{id}/graph',
    tag: 'assets',
    summary: 'An asset’s relations',
    description:
      'The graph account —owns→ asset —licensed→ licence ←holds— buyer; licence —ran→ job —receipt→ receipt (enclave, measurement, query and result hashes, ε, signature, transaction) (R24).',
    parameters: [assetId],
    ok: {
      200: {
        description: 'nodes and edges',
        content: json(
          object({
            chainId: integer(),
            tokenId: decimal(),
            indexedBlock: integer(),
            nodes: array({
              type: 'object',
              required: ['id', 'type'],
              properties: { id: string(), type: oneOf('account', 'asset', 'licence', 'job', 'receipt') },
            }),
            edges: array(
              object(
                {
                  from: string(),
                  to: string(),
                  relation: oneOf('owns', 'licensed', 'holds', 'ran', 'receipt'),
                  txHash: hex(32),
                },
                ['txHash'],
              ),
            ),
          }),
        ),
      },
    },
    errors: { 400: ['invalid_asset_id'], 404: ['asset_not_found'] },
  },
  // ---- uploads
  {
    method: 'post',
    path: '/api/uploads',
    tag: 'uploads',
    summary: 'A one-pass upload ticket',
    description:
      'Against an EIP-712 `UploadIntent { owner, size, nonce, deadline }` signature (deadline at most 1 h ahead), a single-use ticket naming no CID, so a client encrypts, hashes and uploads in one read of the file, then finishes with `POST /api/assets` and `x-stillflow-upload: uploaded`. Each nonce buys one ticket; at most `UPLOAD_TICKETS_PER_HOUR` per owner per rolling hour (429 with Retry-After).',
    body: { required: true, content: json(ref('UploadIntent')) },
    ok: { 201: { description: 'the ticket', content: json(object({ upload: ref('DirectUpload') })) } },
    errors: errors(
      {
        400: ['invalid_intent', 'invalid_owner'],
        401: ['invalid_signature'],
        409: ['intent_used'],
        413: ['upload_too_large'],
        422: ['signature_expired', 'deadline_too_far', 'direct_upload_unavailable'],
        429: ['too_many_uploads'],
      },
      jsonBody(),
    ),
  },
  // ---- publications
  {
    method: 'get',
    path: '/api/publications',
    tag: 'publications',
    summary: 'My publish requests',
    description: 'The signed-in owner’s publications, newest first (at most 200).',
    security: 'siwe',
    ok: {
      200: { description: 'the publications', content: json(object({ publications: array(ref('Publication')) })) },
    },
    errors: SESSION,
  },
  {
    method: 'get',
    path: '/api/publications/{id}',
    tag: 'publications',
    summary: 'A publication’s status',
    description:
      'pending → minted | failed, with the current or failing step; a minted one carries the body `POST /api/assets` answers, a failed one the HTTP status that request would have had. Polled by direct uploads.',
    parameters: [inPath('id', 'the publication id (UUID)', { type: 'string', pattern: '^[0-9a-f-]{36}$' })],
    ok: { 200: { description: 'the publication', content: json(ref('Publication')) } },
    errors: { 400: ['invalid_id'], 404: ['publication_not_found'] },
  },
  // ---- verify
  {
    method: 'post',
    path: '/api/verify',
    tag: 'verify',
    summary: 'Is this file a registered asset?',
    description:
      'Hashes the file as it streams (never stored), or takes its SHA-256, and asks DataAssetNFT whether that content is minted, and whose it is (R15).',
    body: {
      required: true,
      content: {
        ...octets,
        'application/json': object({ contentHash: hex(32, 'SHA-256 of the file') }),
      },
    },
    ok: {
      200: {
        description: '`match` and, when true, the asset',
        content: json(
          object(
            {
              match: boolean,
              contentHash: hex(32),
              chainId: integer(),
              asset: object({
                contract: address,
                tokenId: decimal(),
                owner: address,
                revoked: boolean,
                frozen: boolean,
              }),
            },
            ['asset'],
          ),
        ),
      },
    },
    errors: errors(
      {
        400: ['body_required', 'invalid_content_hash'],
        413: ['file_too_large', 'request_too_large'],
        415: ['unsupported_media_type'],
      },
      UNAVAILABLE,
    ),
  },
]
