// Every D1 table, as drizzle schema. SQL names are snake_case; migrations/ is generated from this file.
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

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
    /** The finished response body (public facts only), returned unchanged when the request is replayed. */
    result: text('result'),
    /**
     * The checked request while the publish queue finishes it (services/publish-queue.ts): the signed
     * declaration, signature and deadline and the data key wrapped to the enclave — no secret. Cleared
     * when the publication ends.
     */
    pendingRequest: text('pending_request'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('publications_owner_key').on(t.owner, t.idempotencyKey),
    index('publications_content').on(t.contentHash),
  ],
)

// ---- The chain mirror (issue 8; R4, R8, R16–R24, R45–R47) ------------------------------------------
// `events` is the append-only ledger copied from chain logs. Every table after it is derived from
// `events` alone, in (block_number, log_index) order, so `npm run reindex` can drop and rebuild them to
// the same rows (R46). Ids that are uint256 on chain are decimal text; addresses and hashes are
// lowercase 0x-hex; amounts are decimal text (wei does not fit a 64-bit integer).

/** Every log of every contract in the address book, decoded; the source of all derived tables (R47). */
export const events = sqliteTable(
  'events',
  {
    chainId: integer('chain_id').notNull(),
    blockNumber: integer('block_number').notNull(),
    blockHash: text('block_hash').notNull(),
    /** Block time in Unix seconds. */
    blockTime: integer('block_time').notNull(),
    txHash: text('tx_hash').notNull(),
    logIndex: integer('log_index').notNull(),
    address: text('address').notNull(),
    /** Address-book name of the emitting contract, e.g. `DataMarket`. */
    contract: text('contract').notNull(),
    /** Event name, or `Unknown` for a topic no ABI in contracts/ declares (kept: the ledger is complete). */
    name: text('name').notNull(),
    /** Canonical JSON of the decoded arguments (worker/README.md, "Ledger export"). */
    args: text('args').notNull(),
    /** Evidence taken from the transaction, e.g. `{ "enclaveSignature": … }` for `JobRecorded`; JSON or null. */
    detail: text('detail'),
    /** The asset the event is about, when its own arguments name one (history queries). */
    tokenId: text('token_id'),
    /** The licence the event is about, when its own arguments name one. */
    licenceId: text('licence_id'),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.blockNumber, t.logIndex] }),
    uniqueIndex('events_tx_log').on(t.chainId, t.txHash, t.logIndex),
    index('events_token').on(t.chainId, t.tokenId),
    index('events_licence').on(t.chainId, t.licenceId),
    // The market's allow-list is read from its CurrencyAllowed events (routes/catalog.ts acceptedTokens).
    index('events_kind').on(t.chainId, t.contract, t.name),
  ],
)

/** Hashes of indexed blocks: the parent check that detects a reorganisation, and where to roll back to. */
export const indexedBlocks = sqliteTable(
  'indexed_blocks',
  {
    chainId: integer('chain_id').notNull(),
    number: integer('number').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.number] })],
)

/**
 * Never holds a row. A range's D1 batch inserts NULL here when its compare-and-swap of the cursor in
 * `chains` changed nothing, so the NOT NULL constraint aborts the whole batch: two indexers that read
 * the same cursor (cron and a post-mint nudge) cannot both apply a range.
 */
export const indexerGuard = sqliteTable('indexer_guard', {
  chainId: integer('chain_id').notNull(),
  ok: integer('ok').notNull(),
})

/** Derived: one row per minted asset (DataAssetNFT). A row exists only once its mint is indexed. */
export const assets = sqliteTable(
  'assets',
  {
    chainId: integer('chain_id').notNull(),
    tokenId: text('token_id').notNull(),
    contract: text('contract').notNull(),
    owner: text('owner').notNull(),
    contentHash: text('content_hash'),
    /** Current metadata digest: the latest `AssetAmended`, else `AssetMinted` (R27). */
    metadataDigest: text('metadata_digest'),
    amendmentCount: integer('amendment_count').notNull().default(0),
    delegate: text('delegate'),
    revoked: integer('revoked', { mode: 'boolean' }).notNull().default(false),
    frozen: integer('frozen', { mode: 'boolean' }).notNull().default(false),
    freezeReason: text('freeze_reason'),
    royaltyReceiver: text('royalty_receiver'),
    royaltyBps: integer('royalty_bps'),
    mintedBlock: integer('minted_block'),
    mintedTime: integer('minted_time'),
    mintedTx: text('minted_tx'),
    relayer: text('relayer'),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.tokenId] }),
    index('assets_owner').on(t.chainId, t.owner),
    index('assets_content').on(t.contentHash),
  ],
)

/** Derived: offers (DataMarket). Live = not withdrawn and `owner` still owns the asset (as on chain). */
export const offers = sqliteTable(
  'offers',
  {
    chainId: integer('chain_id').notNull(),
    tokenId: text('token_id').notNull(),
    offerId: text('offer_id').notNull(),
    owner: text('owner').notNull(),
    setBy: text('set_by').notNull(),
    price: text('price').notNull(),
    currency: text('currency').notNull(),
    duration: integer('duration').notNull(),
    maxJobs: integer('max_jobs').notNull(),
    epsilonBudgetMilli: integer('epsilon_budget_milli').notNull(),
    purposes: integer('purposes').notNull(),
    withdrawn: integer('withdrawn', { mode: 'boolean' }).notNull().default(false),
    /** The asset changed hands after this offer was set: it never sells again (DataMarket checks `tenure`). */
    superseded: integer('superseded', { mode: 'boolean' }).notNull().default(false),
    setTx: text('set_tx').notNull(),
    setBlock: integer('set_block').notNull(),
    withdrawnTx: text('withdrawn_tx'),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.tokenId, t.offerId] })],
)

/** Derived: licences (DataMarket), with quota and ε left as of the latest `LicenceConsumed`. */
export const licences = sqliteTable(
  'licences',
  {
    chainId: integer('chain_id').notNull(),
    licenceId: text('licence_id').notNull(),
    tokenId: text('token_id').notNull(),
    offerId: text('offer_id').notNull(),
    buyer: text('buyer').notNull(),
    owner: text('owner').notNull(),
    currency: text('currency').notNull(),
    price: text('price').notNull(),
    fee: text('fee').notNull(),
    expiresAt: integer('expires_at').notNull(),
    jobsLeft: integer('jobs_left'),
    epsilonLeftMilli: integer('epsilon_left_milli'),
    purchasedTx: text('purchased_tx').notNull(),
    purchasedBlock: integer('purchased_block').notNull(),
    purchasedTime: integer('purchased_time').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.licenceId] }),
    index('licences_token').on(t.chainId, t.tokenId),
    index('licences_buyer').on(t.chainId, t.buyer),
  ],
)

/** Derived: enclave-signed job receipts recorded by ComputeLedger (R16–R19, R58). */
export const receipts = sqliteTable(
  'receipts',
  {
    chainId: integer('chain_id').notNull(),
    jobId: text('job_id').notNull(),
    licenceId: text('licence_id').notNull(),
    tokenId: text('token_id'),
    enclave: text('enclave').notNull(),
    contentHash: text('content_hash').notNull(),
    queryHash: text('query_hash').notNull(),
    resultHash: text('result_hash').notNull(),
    epsilonSpentMilli: integer('epsilon_spent_milli').notNull(),
    measurement: text('measurement').notNull(),
    /**
     * The enclave's EIP-712 signature, from the `recordReceipt` (or `recordGroupReceipt`, on every part's
     * row) calldata; null when not a direct call.
     */
    signature: text('signature'),
    txHash: text('tx_hash').notNull(),
    blockNumber: integer('block_number').notNull(),
    blockTime: integer('block_time').notNull(),
    /**
     * The part of a job across assets (`JobPartRecorded.part`, R67): such a job has one row per part, so
     * each licence and each asset sees its own part. 0 for a single-asset job (`JobRecorded`).
     */
    part: integer('part').notNull().default(0),
    /** The number of parts of a job across assets (`GroupJobRecorded.partCount`); null for a single job. */
    partCount: integer('part_count'),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.jobId, t.part] }),
    index('receipts_licence').on(t.chainId, t.licenceId),
    index('receipts_token').on(t.chainId, t.tokenId),
  ],
)

/** Derived: enclave signing keys (EnclaveRegistry). */
export const enclaves = sqliteTable(
  'enclaves',
  {
    chainId: integer('chain_id').notNull(),
    signer: text('signer').notNull(),
    measurement: text('measurement').notNull(),
    clusterPublicKey: text('cluster_public_key').notNull(),
    registeredBlock: integer('registered_block').notNull(),
    active: integer('active', { mode: 'boolean' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.signer] })],
)

/** Derived: enclave measurements the supervisors approved or retired (EnclaveRegistry). */
export const measurements = sqliteTable(
  'measurements',
  {
    chainId: integer('chain_id').notNull(),
    measurement: text('measurement').notNull(),
    approved: integer('approved', { mode: 'boolean' }).notNull(),
    changedBy: text('changed_by').notNull(),
    changedBlock: integer('changed_block').notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.measurement] })],
)

/** Derived: DataMarket's fee and treasury as of the latest event (the treasury is credited per sale). */
export const marketSettings = sqliteTable('market_settings', {
  chainId: integer('chain_id').primaryKey(),
  treasury: text('treasury'),
  feeBps: integer('fee_bps'),
})

/**
 * Derived: the pull-payment book of DataMarket, one line per balance change (R10, R20): a sale credits
 * the owner (price − fee) and the treasury (fee); a withdrawal debits. The sum per (account, currency)
 * equals `pendingWithdrawal` on chain.
 */
export const payments = sqliteTable(
  'payments',
  {
    chainId: integer('chain_id').notNull(),
    blockNumber: integer('block_number').notNull(),
    logIndex: integer('log_index').notNull(),
    account: text('account').notNull(),
    kind: text('kind', { enum: ['sale', 'fee', 'withdrawal'] }).notNull(),
    currency: text('currency').notNull(),
    /** Signed decimal wei (negative for withdrawals). */
    amount: text('amount').notNull(),
    licenceId: text('licence_id'),
    tokenId: text('token_id'),
    txHash: text('tx_hash').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.chainId, t.blockNumber, t.logIndex, t.account] }),
    index('payments_account').on(t.chainId, t.account),
  ],
)

/** Derived: ledger Merkle roots anchored on chain through LedgerAnchor (R24 "ledger", R38–R39). */
export const anchors = sqliteTable(
  'anchors',
  {
    chainId: integer('chain_id').notNull(),
    anchorId: text('anchor_id').notNull(),
    merkleRoot: text('merkle_root').notNull(),
    leafCount: integer('leaf_count').notNull(),
    toBlock: integer('to_block').notNull(),
    anchoredBy: text('anchored_by').notNull(),
    txHash: text('tx_hash').notNull(),
    blockNumber: integer('block_number').notNull(),
  },
  (t) => [primaryKey({ columns: [t.chainId, t.anchorId] })],
)

/**
 * Asset metadata JSON fetched from IPFS, keyed by its SHA-256 digest (content-addressed, so it is a cache
 * of immutable facts and survives a reindex). `missing` is retried after `retryAt`.
 */
export const assetMetadata = sqliteTable('asset_metadata', {
  digest: text('digest').primaryKey(),
  cid: text('cid').notNull(),
  status: text('status', { enum: ['ok', 'missing', 'invalid'] }).notNull(),
  title: text('title'),
  description: text('description'),
  /** JSON array of strings. */
  tags: text('tags'),
  attempts: integer('attempts').notNull().default(0),
  retryAt: integer('retry_at'),
  fetchedAt: integer('fetched_at'),
})

/**
 * One-pass upload intents (issue 5): a row per ticket issued. The nonce buys one ticket (a replayed
 * intent is refused here, before the uploader would refuse its ticket), and an owner's rows in the last
 * hour are counted against the per-owner limit. Rows leave once past both the hour and their deadline.
 */
export const uploadIntents = sqliteTable(
  'upload_intents',
  {
    nonce: text('nonce').primaryKey(),
    owner: text('owner').notNull(),
    size: integer('size').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('upload_intents_owner').on(t.owner, t.createdAt)],
)

/** Sign-In with Ethereum nonces (EIP-4361): each is spent once, and only before it expires. */
export const authNonces = sqliteTable('auth_nonces', {
  nonce: text('nonce').primaryKey(),
  expiresAt: integer('expires_at').notNull(),
})

/** Sessions: only the SHA-256 of the bearer token is stored, so a leaked table grants nothing (R73). */
export const sessions = sqliteTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    address: text('address').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('sessions_address').on(t.address)],
)

// ---- Compute jobs (issue 6; R51–R54, R58) ---------------------------------------------------------

/**
 * One row per compute job, the source of truth for its status (Queues only carry the job id and lose
 * undelivered messages when wrangler restarts; the sweeper re-enqueues from here). The job id is the
 * EIP-712 digest of the buyer's signed JobRequest, so a request can only ever be one job. Holds only the
 * request, hashes, the signed receipt and where the sealed result is in R2 — never result plaintext (R51).
 */
export const computeJobs = sqliteTable(
  'compute_jobs',
  {
    jobId: text('job_id').primaryKey(),
    chainId: integer('chain_id').notNull(),
    /** The licence holder who signed the request (lowercase). */
    buyer: text('buyer').notNull(),
    licenceId: text('licence_id').notNull(),
    tokenId: text('token_id').notNull(),
    contentHash: text('content_hash').notNull(),
    queryHash: text('query_hash').notNull(),
    /** The SQL text: the enclave needs it on every retry; it is the buyer's question, not data. */
    query: text('query').notNull(),
    resultPublicKey: text('result_public_key').notNull(),
    nonce: text('nonce').notNull(),
    /** Unix seconds; past it the job expires unless its receipt is already on chain. */
    deadline: integer('deadline').notNull(),
    signature: text('signature').notNull(),
    ciphertextCid: text('ciphertext_cid').notNull(),
    /** Origin the job was submitted to: serves the ciphertext to the enclave when no IPFS gateway is set. */
    origin: text('origin').notNull(),
    status: text('status', { enum: ['queued', 'running', 'succeeded', 'failed', 'expired'] }).notNull(),
    reasonCode: text('reason_code'),
    reasonMessage: text('reason_message'),
    /** Deliveries so far (queue and sweeper); the last transient error is kept in `lastError`. */
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    /** The enclave's SignedReceipt as JSON, stored before recording so a retry never re-runs the job. */
    receipt: text('receipt'),
    resultHash: text('result_hash'),
    resultSize: integer('result_size'),
    epsilonSpentMilli: integer('epsilon_spent_milli'),
    measurement: text('measurement'),
    receiptTx: text('receipt_tx'),
    receiptBlock: integer('receipt_block'),
    /** Unix seconds after which the sealed result is deleted from R2 (RESULT_RETENTION_DAYS). */
    resultExpiresAt: integer('result_expires_at'),
    resultDeleted: integer('result_deleted', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (t) => [
    uniqueIndex('compute_jobs_buyer_nonce').on(t.chainId, t.buyer, t.nonce),
    index('compute_jobs_status').on(t.status, t.updatedAt),
    index('compute_jobs_licence').on(t.chainId, t.licenceId, t.status),
  ],
)

/**
 * The parts of a compute job across assets of several owners (R67), one row per (licence, asset, table)
 * the buyer's signed MultiJobRequest names, in request order. A single-asset job has none; a multi-asset
 * job's `compute_jobs` row carries its first part. Quota in flight is counted per licence over both tables.
 */
export const computeJobParts = sqliteTable(
  'compute_job_parts',
  {
    jobId: text('job_id').notNull(),
    part: integer('part').notNull(),
    chainId: integer('chain_id').notNull(),
    licenceId: text('licence_id').notNull(),
    tokenId: text('token_id').notNull(),
    contentHash: text('content_hash').notNull(),
    /** The table name the query uses for this part (parts sharing one are stacked). */
    tableName: text('table_name').notNull(),
    ciphertextCid: text('ciphertext_cid').notNull(),
    /** ε this part was charged, from the enclave's group receipt. */
    epsilonSpentMilli: integer('epsilon_spent_milli'),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.part] }), index('compute_job_parts_licence').on(t.chainId, t.licenceId)],
)
