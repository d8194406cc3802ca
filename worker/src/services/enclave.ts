// The worker's one adapter to the enclave host. It is another trust domain, reached over HTTP only; what
// it says about itself is checked against EnclaveRegistry on chain.
import { Interface } from 'ethers'
import { enclaveRegistryAbi } from '../../../contracts/index'
import { base64url, utf8 } from '../../../tee-sim/src/bytes'
import type { Bindings } from '../env'
import { rpcBatch } from './chain'
import { addressBook, reaching, requireSetting } from './config'

const registry = new Interface(enclaveRegistryAbi)

export interface EnclaveStatus {
  measurement: string
  signer: string
  /** The supervisors approved this measurement in EnclaveRegistry. */
  measurementApproved: boolean
  /** The signer is registered in EnclaveRegistry under this measurement (it can sign receipts). */
  registered: boolean
}

export async function enclaveStatus(env: Bindings): Promise<EnclaveStatus> {
  const url = `${requireSetting(env, 'ENCLAVE_URL')}/health`
  const res = await reaching('the enclave host', url, () => fetch(url, { headers: { accept: 'application/json' } }))
  if (!res.ok) throw new Error(`enclave host answered ${res.status}`)
  const body = (await res.json()) as { measurement?: unknown; signer?: unknown }
  const { measurement, signer } = body
  if (typeof measurement !== 'string' || !/^0x[0-9a-f]{64}$/i.test(measurement))
    throw new Error('enclave host returned no measurement')
  if (typeof signer !== 'string' || !/^0x[0-9a-f]{40}$/i.test(signer))
    throw new Error('enclave host returned no signer address')

  const to = addressBook(env).contracts.EnclaveRegistry
  if (!to) throw new Error('ADDRESS_BOOK has no EnclaveRegistry')
  const call = (fn: string, args: unknown[]) =>
    ['eth_call', [{ to, data: registry.encodeFunctionData(fn, args) }, 'latest']] as [string, unknown[]]
  const [approvedHex, registeredHex] = (await rpcBatch(env, [
    call('isMeasurementApproved', [measurement]),
    call('enclaveMeasurement', [signer]),
  ])) as string[]
  const measurementApproved = registry.decodeFunctionResult('isMeasurementApproved', approvedHex)[0] as boolean
  const registeredAs = registry.decodeFunctionResult('enclaveMeasurement', registeredHex)[0] as string
  const status = {
    measurement,
    signer,
    measurementApproved,
    registered: registeredAs.toLowerCase() === measurement.toLowerCase(),
  }
  if (!measurementApproved) throw new Error(`measurement ${measurement} is not approved in EnclaveRegistry`)
  if (!status.registered) throw new Error(`signer ${signer} is not registered in EnclaveRegistry`)
  return status
}

/** The enclave host's attestation document for a caller's nonce, passed through unchanged. */
export async function enclaveAttestation(env: Bindings, nonce: string): Promise<unknown> {
  const url = `${requireSetting(env, 'ENCLAVE_URL')}/attestation?nonce=${nonce}`
  const res = await reaching('the enclave host', url, () => fetch(url))
  if (!res.ok) throw new UpstreamError('enclave', res.status, await res.text())
  return res.json()
}

export interface IngestParams {
  chainId: number
  contract: string
  contentHash: string
  wrappedKey: string
  format: 'csv' | 'jsonl'
  policy?: unknown
  /** The owner's signed declaration and Publish signature: the enclave takes the policy from it. */
  publish: { declaration: string; signature: string; deadline: number }
}

/** The enclave's signed ingest result (tee-sim POST /ingest). */
export interface IngestResult {
  receipt: Record<string, unknown>
  signature: string
  signer: string
  schema: Array<{ name: string; type: string }>
  statistics: Record<string, unknown>
  policy: unknown
}

/** Streams ciphertext into the enclave's ingest: it decrypts, checks the content hash and summarises. */
export async function enclaveIngest(
  env: Bindings,
  params: IngestParams,
  ciphertext: ReadableStream<Uint8Array>,
): Promise<IngestResult> {
  const url = `${requireSetting(env, 'ENCLAVE_URL')}/ingest`
  // UTF-8, as the enclave decodes it: a policy's column names and domains may be any script.
  const header = base64url(utf8(JSON.stringify(params)))
  const res = await reaching('the enclave host', url, () =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'x-stillflow-ingest': header },
      body: ciphertext,
    }),
  )
  if (!res.ok) throw new UpstreamError('enclave', res.status, await res.text())
  return res.json()
}

/** A component answered with an error; `body` is its `{ error: { code, message } }` when it has one. */
export class UpstreamError extends Error {
  override name = 'UpstreamError'
  readonly code: string
  constructor(
    readonly component: string,
    readonly status: number,
    body: string,
  ) {
    let code = `${component}_http_${status}`
    let message = body.slice(0, 300)
    try {
      const parsed = JSON.parse(body) as { error?: { code?: string; message?: string }; Message?: string }
      code = parsed.error?.code ?? code
      message = parsed.error?.message ?? parsed.Message ?? message
    } catch {
      // not JSON: keep the text
    }
    super(message)
    this.code = code
  }
}
