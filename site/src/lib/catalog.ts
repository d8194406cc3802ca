// The shapes of the catalogue API (worker/src/routes/catalog.ts and asset-history.ts) as the pages use them.

export interface AssetSummary {
  tokenId: string
  title: string | null
  description: string
  tags: string[]
  owner: string
  format: string | null
  policyKind: string | null
  rowCount: number | null
  columnCount: number | null
  frozen: boolean
  price: { amount: string; currency: string } | null
  offerCount: number
  /** Use recorded on chain: licences sold and jobs recorded by ComputeLedger. */
  usage?: { licences: number; jobs: number }
}

export interface BrowsePage {
  items: AssetSummary[]
  next: string | null
}

export interface Offer {
  offerId: string
  price: string
  currency: string
  totalCost: string
  fee: string
  ownerReceives: string
  durationSeconds: number
  maxJobs: number
  epsilonBudgetMilli: number
  purposes: number
  live: boolean
  setTx: string
}

export interface NumericBin {
  lo: number
  hi: number
  noisyCount: number
}
export interface ColumnStatistics {
  name: string
  type: string
  noisyNullCount?: number
  bins?: NumericBin[]
  range?: [number, number] | null
  values?: { value: string; noisyCount: number }[]
}
export interface DatasetStatistics {
  noisyRowCount?: number
  epsilonMilli?: number
  delta?: number
  columns?: ColumnStatistics[]
}

export interface AssetDetail {
  chainId: number
  tokenId: string
  status: 'indexed' | 'pending'
  title: string | null
  description: string | null
  tags: string[]
  metadataStatus: string | null
  owner: string
  contract: string | null
  revoked: boolean
  frozen: boolean
  /** When frozen: the supervisor's reason as text, or its bytes32 hex when that is no text (null: none given). */
  freezeReason: string | null
  mint: { txHash: string | null; blockNumber: number | null; time: number | null }
  format: string | null
  policy: Record<string, unknown> | null
  lawfulBasis: { basis: string; statement: string; personalData: boolean } | null
  contentHash: string | null
  metadataDigest: string | null
  cids: { ciphertext: string | null; declaration: string | null; metadata: string | null }
  sizes: { ciphertext: number | null; plaintext: number | null }
  measurement: string | null
  schema: Array<{ name: string; type: string }> | null
  rowCount: number | null
  statistics: DatasetStatistics | null
  ingest: { signer: string | null; signature: string | null; receipt: Record<string, unknown> | null } | null
  feeBps: number
  offers: Offer[]
  usage: { receipts: number; epsilonSpentMilli: number; licences: number }
}

export interface HistoryEvent {
  kind: string
  contract: string
  event: string
  blockNumber: number
  blockTime: number
  txHash: string
  logIndex: number
  args: Record<string, unknown>
}

/** The browse form's fields as typed (prices in ETH; the page converts them to wei). */
export interface SearchValues {
  q?: string
  tag?: string
  format?: string
  policy?: string
  owner?: string
  minEth?: string
  maxEth?: string
  sort?: string
}
