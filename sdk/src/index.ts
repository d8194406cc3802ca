// The Stillflow client library: one implementation for the site, the CLI and the tests. Runs in Node and
// browsers (Node-only helpers live in sdk/src/node).
export { ApiClient, type ApiOptions } from './api'
export {
  ApiRequestError,
  EnclaveNotTrustedError,
  InvalidPublicationError,
  ServiceUnreachableError,
  StillflowError,
} from './errors'
export { trustEnclave, type EnclaveInfo, type TrustEnclaveOptions, type TrustedEnclave } from './enclave'
export { kuboCidV1, rawBlockCid, rawCidOfDigest } from './cid'
export {
  DECLARATION_VERSION,
  MAX_DECLARATION_BYTES,
  checkDeclarationInput,
  decodeDeclaration,
  encodeDeclaration,
  type Declaration,
  type DeclarationInput,
  type LawfulBasis,
} from './declaration'
export { isTag, TAG_RULE } from './tags'
export {
  publish,
  type Hasher,
  type PublishOptions,
  type PublishPhase,
  type PublishProgress,
  type PublishResult,
  type PublishSource,
} from './publish'
export {
  JobNotSucceededError,
  ResultVerificationError,
  collectJobResult,
  createJobRequest,
  createMultiJobRequest,
  fetchJobResult,
  generateResultKey,
  getJob,
  openJobResult,
  runComputeJob,
  signJobRequest,
  signMultiJobRequest,
  submitJob,
  waitForJob,
  type AcceptedJob,
  type JobPartInput,
  type JobOutcome,
  type JobStatus,
  type JobView,
  type MarketRef,
  type OpenOptions,
  type PendingJob,
  type ResultKey,
  type RunJobOptions,
  type SealedJobResult,
  type TypedDataSigner,
} from './jobs'
export {
  InsufficientTokenBalanceError,
  TransactionRefusedError,
  buildSetOffer,
  buildWithdrawOffer,
  describeLapse,
  ensureAllowance,
  findLicences,
  formatTokenAmount,
  listOffers,
  marketEvents,
  quotePurchase,
  requireTokenBalance,
  sendBuilt,
  tokenInfo,
  type LicenceState,
  type NewOfferTerms,
  type Offer,
  type OfferLapse,
  type OfferSender,
  type PurchaseQuote,
  type TokenInfo,
  type UnsignedTx,
} from './offers'
