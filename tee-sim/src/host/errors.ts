// The host's one error edge: maps EnclaveError subclasses to HTTP status codes and the
// `{ error: { code, message } }` body. Only shortMessage reaches a client; never stacks or causes.
import * as E from '../errors'

export class HostRequestError extends E.EnclaveError {
  override name = 'HostRequestError'
  constructor(
    readonly status: 400 | 404 | 405 | 411 | 413 | 415,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

const TABLE: Array<[new (...a: never[]) => E.EnclaveError, number, string]> = [
  // Before its parent class: the table is read in order.
  [E.OwnerProofRequiredError, 400, 'owner_proof_required'],
  [E.InvalidInputError, 400, 'invalid_input'],
  [E.QuoteVerificationError, 400, 'quote_invalid'],
  [E.RequestSignatureError, 401, 'request_signature_invalid'],
  [E.QueryRejectedError, 400, 'query_rejected'],
  [E.PolicyViolationError, 403, 'policy_violation'],
  [E.LicenceInvalidError, 403, 'licence_invalid'],
  [E.AssetUnavailableError, 403, 'asset_unavailable'],
  [E.UnknownAssetError, 404, 'unknown_asset'],
  [E.BudgetExhaustedError, 429, 'budget_exhausted'],
  [E.CiphertextIntegrityError, 422, 'ciphertext_integrity'],
  [E.KeyUnwrapError, 422, 'key_unwrap_failed'],
  [E.ContentHashMismatchError, 422, 'content_hash_mismatch'],
  [E.DatasetFormatError, 422, 'dataset_format'],
  [E.ChainUnavailableError, 503, 'chain_unavailable'],
  [E.MeasurementNotApprovedError, 503, 'measurement_not_approved'],
]

export interface Problem {
  status: number
  body: { error: { code: string; message: string } }
  /** Unknown errors are logged once by the caller; known ones are the client's business. */
  unexpected: boolean
}

export function toProblem(err: unknown): Problem {
  if (err instanceof HostRequestError) {
    return { status: err.status, body: { error: { code: err.code, message: err.shortMessage } }, unexpected: false }
  }
  for (const [cls, status, code] of TABLE) {
    if (err instanceof cls) return { status, body: { error: { code, message: err.shortMessage } }, unexpected: false }
  }
  return {
    status: 500,
    body: { error: { code: 'internal', message: 'internal enclave host error' } },
    unexpected: true,
  }
}
