// Consent and authentication for PSI sessions (R55, R73): the EIP-712 messages each party signs to take
// part in a session and to act in it. Pure data + ethers, so the worker imports this module too.
import { TypedDataEncoder, verifyTypedData, type TypedDataDomain, type TypedDataField } from 'ethers'

/** Role in the protocol: A sends S and U and learns positions in V; B sends T and V. */
export type PsiRole = 'A' | 'B'
export const roleCode = (r: PsiRole): number => (r === 'A' ? 0 : 1)

/**
 * Domain of PSI sessions on one chain. Its name separates it from every other Stillflow domain, so a
 * signature for a receipt, a publish or a quote can never be read as PSI consent, and vice versa.
 */
export function psiDomain(chainId: bigint | number): TypedDataDomain {
  return { name: 'Stillflow PSI', version: '1', chainId }
}

/**
 * `PsiParticipation(bytes32 sessionId,address partyA,address partyB,uint8 role,uint32 maxElements,uint64 expiresAt,bytes32 transportKey)`:
 * "I, the party in `role`, take part in this session with this counterparty, up to `maxElements`
 * elements, until `expiresAt` (Unix s); encrypt relayed messages to me under `transportKey` (X25519)."
 */
export const psiParticipationTypes = {
  PsiParticipation: [
    { name: 'sessionId', type: 'bytes32' },
    { name: 'partyA', type: 'address' },
    { name: 'partyB', type: 'address' },
    { name: 'role', type: 'uint8' },
    { name: 'maxElements', type: 'uint32' },
    { name: 'expiresAt', type: 'uint64' },
    { name: 'transportKey', type: 'bytes32' },
  ],
} as const satisfies Record<string, TypedDataField[]>

export interface PsiParticipation {
  sessionId: string
  partyA: string
  partyB: string
  role: number
  maxElements: number
  expiresAt: number
  transportKey: string
}

/**
 * `PsiRequest(bytes32 sessionId,uint8 role,string action,bytes32 bodyHash,uint64 nonce,uint64 deadline)`:
 * authenticates one request (upload, download, result). `bodyHash` = SHA-256 of the request body
 * (of the empty string for reads); each `nonce` is accepted once per session and role, and the
 * signature lapses at `deadline` (Unix s), so a captured request cannot be replayed.
 */
export const psiRequestTypes = {
  PsiRequest: [
    { name: 'sessionId', type: 'bytes32' },
    { name: 'role', type: 'uint8' },
    { name: 'action', type: 'string' },
    { name: 'bodyHash', type: 'bytes32' },
    { name: 'nonce', type: 'uint64' },
    { name: 'deadline', type: 'uint64' },
  ],
} as const satisfies Record<string, TypedDataField[]>

export interface PsiRequest {
  sessionId: string
  role: number
  action: PsiAction
  bodyHash: string
  nonce: bigint | number | string
  deadline: number
}

/** Every action a party can sign for. */
export const PSI_ACTIONS = ['put-relay', 'get-relay', 'put-blinded', 'get-result'] as const
export type PsiAction = (typeof PSI_ACTIONS)[number]

/** Header names that carry a PsiRequest signature. */
export const PSI_AUTH_HEADERS = {
  role: 'x-psi-role',
  nonce: 'x-psi-nonce',
  deadline: 'x-psi-deadline',
  signature: 'x-psi-signature',
} as const

/** Minimal signer: an ethers Signer or Wallet. */
export interface TypedDataSigner {
  getAddress(): Promise<string>
  signTypedData(
    domain: TypedDataDomain,
    types: Record<string, TypedDataField[]>,
    value: Record<string, unknown>,
  ): Promise<string>
}

export function signParticipation(signer: TypedDataSigner, chainId: number, p: PsiParticipation): Promise<string> {
  return signer.signTypedData(psiDomain(chainId), psiParticipationTypes as never, p as never)
}

export function recoverParticipation(chainId: number, p: PsiParticipation, signature: string): string {
  return verifyTypedData(psiDomain(chainId), psiParticipationTypes as never, p as never, signature)
}

export function signPsiRequest(signer: TypedDataSigner, chainId: number, r: PsiRequest): Promise<string> {
  return signer.signTypedData(psiDomain(chainId), psiRequestTypes as never, r as never)
}

export function recoverPsiRequest(chainId: number, r: PsiRequest, signature: string): string {
  return verifyTypedData(psiDomain(chainId), psiRequestTypes as never, r as never, signature)
}

/** The EIP-712 digest of a participation (what a hardware wallet displays as the hash). */
export const participationDigest = (chainId: number, p: PsiParticipation): string =>
  TypedDataEncoder.hash(psiDomain(chainId), psiParticipationTypes as never, p as never)
