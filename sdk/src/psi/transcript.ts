// The transcript of a worker PSI session as committed on chain (ComputeLedger.commitPsi, R55): one
// fixed-layout, domain-separated hash that each party recomputes from what it sent and received, and the
// check of a commitment read back from the chain against it.
import { sha256 } from '@noble/hashes/sha2.js'
import { getAddress } from 'ethers'
import { fromHex, toHex, utf8 } from './bytes'

/** Versioned tag: a change of layout is a new tag, so two layouts can never produce the same hash. */
const SESSION_TRANSCRIPT_TAG = utf8('Stillflow-PSI-session-transcript-v1')

/** SHA-256 of one protocol message exactly as it crossed the wire, 0x-hex. */
export function messageDigest(bytes: Uint8Array): string {
  return '0x' + toHex(sha256(bytes))
}

/** The four messages of a session, each by its SHA-256 (`messageDigest`). */
export interface PsiMessageDigests {
  /** S: A's step-1 list as relayed to B — the sealed relay message (ciphertext), not S itself. */
  s: string
  /** T: B's step-1 list as relayed to A, sealed likewise. */
  t: string
  /** U = X·T: A's step-2 list as sent to C (32-byte elements, packed). */
  u: string
  /** V = Y·S: B's step-2 list as sent to C. */
  v: string
}

/** Everything the session transcript hash covers. */
export interface PsiTranscript {
  chainId: number
  /** 0x + 64 hex. */
  sessionId: string
  partyA: string
  partyB: string
  digests: PsiMessageDigests
  /** Distinct elements A sent (= |S| = |V|). */
  sizeA: number
  /** Distinct elements B sent (= |T| = |U|). */
  sizeB: number
  intersectionSize: number
}

const u32 = (n: number, what: string) => {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${what} must be a uint32`)
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n)
  return b
}

const bytes32 = (hex: string, what: string) => {
  if (typeof hex !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(hex)) throw new RangeError(`${what} must be 32-byte hex`)
  return fromHex(hex)
}

/**
 * SHA-256 over a fixed layout (every field fixed-length, so the encoding is injective):
 *
 *     "Stillflow-PSI-session-transcript-v1" ‖ uint64be(chainId) ‖ sessionId (32)
 *     ‖ partyA (20) ‖ partyB (20) ‖ SHA-256(S) ‖ SHA-256(T) ‖ SHA-256(U) ‖ SHA-256(V)
 *     ‖ uint32be(|S|) ‖ uint32be(|T|) ‖ uint32be(|A ∩ B|)
 *
 * S and T are hashed as relayed (sealed), because the comparator that computes and commits the hash
 * never sees them in the clear; each party knows both sealed messages byte for byte (its own and the one
 * it opened). Returns 0x-hex, the `transcriptHash` argument of ComputeLedger.commitPsi.
 *
 * @example
 * const local = psiTranscriptHash({ chainId, sessionId, partyA, partyB, digests, sizeA, sizeB, intersectionSize })
 */
export function psiTranscriptHash(t: PsiTranscript): string {
  if (!Number.isSafeInteger(t.chainId) || t.chainId <= 0) throw new RangeError('chainId must be a positive integer')
  const chain = new Uint8Array(8)
  new DataView(chain.buffer).setBigUint64(0, BigInt(t.chainId))
  const h = sha256
    .create()
    .update(SESSION_TRANSCRIPT_TAG)
    .update(chain)
    .update(bytes32(t.sessionId, 'sessionId'))
    .update(fromHex(getAddress(t.partyA)))
    .update(fromHex(getAddress(t.partyB)))
  for (const k of ['s', 't', 'u', 'v'] as const) h.update(bytes32(t.digests[k], `digest of ${k.toUpperCase()}`))
  h.update(u32(t.sizeA, 'sizeA')).update(u32(t.sizeB, 'sizeB')).update(u32(t.intersectionSize, 'intersectionSize'))
  return '0x' + toHex(h.digest())
}

/** What ComputeLedger.psiCommitment returns (all zero when nothing is committed). */
export interface PsiCommitmentOnChain {
  transcriptHash: string
  intersectionSize: number
}

/** Why a commitment does not match the party's own transcript. */
export class PsiCommitmentMismatchError extends Error {
  override name = 'PsiCommitmentMismatchError'
}

/**
 * Checks a commitment read from the chain against the locally computed transcript: same hash, same
 * intersection size. Throws PsiCommitmentMismatchError naming what differs.
 */
export function verifyPsiCommitment(local: PsiTranscript, onChain: PsiCommitmentOnChain): void {
  if (/^0x0{64}$/.test(onChain.transcriptHash))
    throw new PsiCommitmentMismatchError(`session ${local.sessionId} has no commitment on chain`)
  const expected = psiTranscriptHash(local)
  if (onChain.transcriptHash.toLowerCase() !== expected)
    throw new PsiCommitmentMismatchError(
      `the chain holds transcript ${onChain.transcriptHash}, but this party's messages give ${expected}`,
    )
  if (onChain.intersectionSize !== local.intersectionSize)
    throw new PsiCommitmentMismatchError(
      `the chain holds intersection size ${onChain.intersectionSize}, but this party was given ${local.intersectionSize}`,
    )
}
