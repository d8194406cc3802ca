// The on-chain facts the enclave checks itself before releasing a key or running a job (R58, R6).
// Implemented by the host with ethers; the enclave only sees this interface.
import type { Hex } from '../bytes'

export interface AssetInfo {
  owner: Hex
  contentHash: Hex
  revoked: boolean
  frozen: boolean
}

export interface LicenceInfo {
  buyer: Hex
  tokenId: bigint
  offerId: bigint
  /** Unix seconds. */
  expiresAt: bigint
  jobsLeft: bigint
  epsilonLeftMilli: bigint
  purposes: bigint
}

/** Same shape as contracts/' AddressBook['contracts']. */
export interface ContractAddresses {
  DataAssetNFT: string
  DataMarket: string
  EnclaveRegistry: string
  ComputeLedger: string
}

export interface ChainReader {
  readonly chainId: number
  readonly contracts: ContractAddresses
  /** Confirms the RPC answers and serves `chainId`. */
  ping(): Promise<void>
  tokenIdOfContent(contentHash: Hex): Promise<bigint>
  assetInfo(tokenId: bigint): Promise<AssetInfo>
  licence(licenceId: bigint): Promise<LicenceInfo>
  isMeasurementApproved(measurement: Hex): Promise<boolean>
  /** Whether ComputeLedger recorded this job's receipt (the enclave's ε ledger settles against it). */
  isJobRecorded(jobId: Hex): Promise<boolean>
}
