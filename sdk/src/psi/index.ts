// The public door of the PSI client: the slides' blinded intersection for a data owner's machine
// (Node or browser), the reference comparator, and the consent messages of a session.
export { PSI_DST, ELEMENT_BYTES, SCALAR_BYTES } from './constants'
export { loadPsiEngine, PsiInputError, type PsiEngine } from './engine'
export { portableEngine } from './engine-portable'
export { createPsiParty, type PsiParty, type PsiPartyOptions, type PsiProgress, type PsiOutcome } from './party'
export { compareBlinded, transcriptHash, type PsiMatches } from './comparator'
export { runLocalPsi, type LocalPsiResult } from './local'
export { cryptoRandomBytes, randomPermutation, type RandomBytes } from './random'
export { packElements, unpackElements, toHex, fromHex } from './bytes'
export {
  psiDomain,
  psiParticipationTypes,
  psiRequestTypes,
  signParticipation,
  recoverParticipation,
  signPsiRequest,
  recoverPsiRequest,
  participationDigest,
  roleCode,
  PSI_ACTIONS,
  PSI_AUTH_HEADERS,
  type PsiRole,
  type PsiAction,
  type PsiParticipation,
  type PsiRequest,
  type TypedDataSigner,
} from './consent'
export {
  psiTranscriptHash,
  messageDigest,
  verifyPsiCommitment,
  PsiCommitmentMismatchError,
  type PsiTranscript,
  type PsiMessageDigests,
  type PsiCommitmentOnChain,
} from './transcript'
export { readPsiCommitment } from './commitment'
export {
  PsiSessionClient,
  PsiSessionError,
  type PsiClientOptions,
  type PsiSessionInfo,
  type PsiSessionResult,
  type PsiCommitStatus,
} from './session-client'
export { generateTransportKey, sealRelay, openRelay, RELAY_OVERHEAD, type TransportKeyPair } from './relay-crypto'
export { createPsiWorkerHandler, type PsiWorkerRequest, type PsiWorkerResponse } from './web-worker'
