// The enclave's persistent state (keys, key store, ε ledger, ingest receipts, job results) and how
// it is sealed to and unsealed from the host's disk. The host only ever stores the sealed bytes.
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { utf8, bytesToHex, hexToBytes, type Hex } from '../bytes'
import { UnsealError } from '../errors'
import type { Platform } from '../platform/simulated-platform'
import type { SignedIngestReceipt } from '../ingest-receipt'
import type { NormalizedPolicy } from '../policy'
import type { ColumnSchema, DatasetFormat } from './dataset'
import type { EnclaveRuntime } from './runtime'
import { seal, unseal } from './sealing'

/** Where the host keeps sealed bytes (a file in dataDir; memory in tests). */
export interface SealedStore {
  read(): Promise<Uint8Array | null>
  write(sealed: Uint8Array): Promise<void>
}

export interface LedgerEntry {
  /** ε (milli) of the jobs this enclave answered that were charged or may still be (not released). */
  spentMilli: number
  /** How many such jobs. */
  jobs: number
  /** Answered jobs whose receipts the chain has not been seen to record yet, by lower-case job id. */
  answered: Record<string, AnsweredJob>
}

/** A job the enclave answered, counted against its licence until recorded on chain or expired. */
export interface AnsweredJob {
  epsilonMilli: number
  /** The request's deadline (unix seconds): after it the worker never records the receipt. */
  deadline: number
}

/** One ingested asset: its key (wrapped to the cluster key), schema, policy and ingest receipt. */
export interface AssetRecord {
  chainId: number
  /** The DataAssetNFT the wrapped key is bound to. */
  contract: Hex
  /** null once crypto-shredded (the asset was revoked on chain, R70). */
  wrappedKey: Hex | null
  format: DatasetFormat
  schema: ColumnSchema[]
  policy: NormalizedPolicy
  /** DP ranges released at ingest, used as clamping bounds where the policy sets none. */
  defaultBounds: Record<string, [number, number]>
  ingest: SignedIngestReceipt
}

export interface EnclaveState {
  version: 1
  signerSecretKey: Hex
  clusterSecretKey: Hex
  /** By lower-case content hash. A re-ingest returns the same noisy statistics (no averaging). */
  assets: Record<string, AssetRecord>
  ledger: Record<string, LedgerEntry>
  /** Job responses by job id: a retried job returns the same result and charges nothing twice. */
  jobs: Record<string, unknown>
}

export const STATE_LABEL = 'enclave-state/v1'

function randomSecp256k1Key(rt: EnclaveRuntime): Uint8Array {
  for (;;) {
    const k = rt.randomBytes(32)
    if (secp256k1.utils.isValidSecretKey(k)) return k
  }
}

export function freshState(rt: EnclaveRuntime): EnclaveState {
  return {
    version: 1,
    signerSecretKey: bytesToHex(randomSecp256k1Key(rt)),
    // RFC 7748 §5: any 32 bytes are an X25519 secret (clamped on use).
    clusterSecretKey: bytesToHex(rt.randomBytes(32)),
    assets: {},
    ledger: {},
    jobs: {},
  }
}

export function sealState(platform: Platform, state: EnclaveState, rt: EnclaveRuntime): Uint8Array {
  const key = platform.sealingKey(STATE_LABEL)
  try {
    return seal(key, STATE_LABEL, utf8(JSON.stringify(state)), rt)
  } finally {
    key.fill(0)
  }
}

export function unsealState(platform: Platform, sealed: Uint8Array): EnclaveState {
  const key = platform.sealingKey(STATE_LABEL)
  let plain: Uint8Array
  try {
    plain = unseal(key, STATE_LABEL, sealed)
  } finally {
    key.fill(0)
  }
  const state = JSON.parse(new TextDecoder().decode(plain)) as EnclaveState
  plain.fill(0)
  if (state.version !== 1) throw new UnsealError(`unknown enclave state version ${String(state.version)}`)
  hexToBytes(state.signerSecretKey, 32, 'sealed signer key')
  hexToBytes(state.clusterSecretKey, 32, 'sealed cluster key')
  return state
}
