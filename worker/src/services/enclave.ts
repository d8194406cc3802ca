// The worker's one adapter to the enclave host. It is another trust domain, reached over HTTP only.
import type { Bindings } from '../env'
import { reaching, requireSetting } from './config'

export interface EnclaveStatus {
  measurement: string
  signer: string
}

export async function enclaveStatus(env: Bindings): Promise<EnclaveStatus> {
  const url = `${requireSetting(env, 'ENCLAVE_URL')}/health`
  const res = await reaching('the enclave host', url, () => fetch(url, { headers: { accept: 'application/json' } }))
  if (!res.ok) throw new Error(`enclave host answered ${res.status}`)
  const body = (await res.json()) as Partial<EnclaveStatus>
  if (typeof body.measurement !== 'string' || !/^0x[0-9a-f]{64}$/i.test(body.measurement)) {
    throw new Error('enclave host returned no measurement')
  }
  return { measurement: body.measurement, signer: String(body.signer ?? '') }
}
