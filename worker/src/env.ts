// The worker's bindings and per-request variables, in one place so every route sees the same types.

/** Bindings declared in wrangler.toml plus the variables `npm start` (or `wrangler deploy`) sets. */
export interface Bindings {
  DB: D1Database
  BLOBS: R2Bucket
  /** JSON-RPC URL of the EVM chain (R42: any EVM chain is configuration). */
  CHAIN_RPC_URL?: string
  /** The address book for CHAIN_RPC_URL's chain, as JSON: `{ chainId, contracts: {...}, deployedAtBlock }`. */
  ADDRESS_BOOK?: string
  /** Kubo RPC base URL: the embedded node locally, any Kubo or pinning service in production. */
  IPFS_API_URL?: string
  /** Base URL of the enclave host (tee-sim locally, a confidential VM in production). */
  ENCLAVE_URL?: string
  /** Seconds an ingest may make no progress before the enclave host counts as hung (default 60). */
  ENCLAVE_STALL_SECONDS?: string
  /** The relayer's private key (a secret): pays gas for mints the owners signed (R21: bookkeeping only). */
  RELAYER_KEY?: string
  /** Largest ciphertext upload accepted, bytes (default 1 GiB). */
  MAX_UPLOAD_BYTES?: string
  /** One-pass upload tickets one owner may take per rolling hour (default 60). */
  UPLOAD_TICKETS_PER_HOUR?: string
  /** Requests that are not reads, per client address (wrangler.toml [[ratelimits]]; middleware/rate-limit.ts). */
  WRITE_LIMITER?: RateLimit
  /** Compute jobs submitted per buyer account (wrangler.toml [[ratelimits]]). */
  JOB_LIMITER?: RateLimit
  /** Compute jobs to run (wrangler.toml [[queues]]); the message is only `{ jobId }`, D1 holds the job. */
  JOBS: Queue<{ jobId: string }>
  /**
   * Publications to finish (ingest, metadata, mint) after their upload: longer than a request may keep
   * running after its response. Unset: finished in the request's `waitUntil` (local tools only).
   */
  PUBLISH?: Queue<{ publicationId: string }>
  /**
   * A trustless IPFS gateway the enclave fetches ciphertext from (`<url>/ipfs/<cid>`). Unset: the enclave
   * fetches it through the worker (`GET /api/jobs/:id/ciphertext`, streamed from IPFS_API_URL).
   */
  IPFS_GATEWAY_URL?: string
  /** Days a sealed job result is kept in R2 (default 30). */
  RESULT_RETENTION_DAYS?: string
  /** Seconds without progress after which the sweeper re-enqueues a queued or running job (default 120). */
  JOB_STALE_SECONDS?: string
}

export interface AppEnv {
  Bindings: Bindings
}
