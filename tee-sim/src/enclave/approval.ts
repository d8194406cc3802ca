// The enclave checks its own build against EnclaveRegistry before it opens a data key, for an ingest or a
// job alike (R53): a build the supervisor retired opens nothing new, whatever a client was told or checked.
import { MeasurementNotApprovedError } from '../errors'
import type { ChainReader } from './chain-reader'
import type { Enclave } from './enclave'

export async function assertBuildApproved(enclave: Enclave, chain: ChainReader): Promise<void> {
  if (!(await chain.isMeasurementApproved(enclave.identity.measurement))) {
    throw new MeasurementNotApprovedError('this enclave build is not approved in EnclaveRegistry', {
      details: enclave.identity.measurement,
    })
  }
}
