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
  // A hung enclave must be a 503 for the owner's client, not a request that never ends.
  const res = await reaching('the enclave host', url, () => fetch(url, { signal: AbortSignal.timeout(10_000) }))
  if (!res.ok) throw new UpstreamError('enclave', res.status, await res.text())
  return res.json()
}

/** Default of ENCLAVE_STALL_SECONDS. */
const STALL_SECONDS = 60

/**
 * Aborts `controller` when `ENCLAVE_STALL_SECONDS` pass with no progress: `touch()` on each piece the
 * enclave takes (and once it has taken the last). A hung enclave host stops reading, so an ingest that
 * would otherwise hold its publication pending for good fails as unreachable and is retried.
 */
function stallTimer(env: Bindings, controller: AbortController) {
  const seconds = Number(env.ENCLAVE_STALL_SECONDS ?? STALL_SECONDS)
  const ms = (Number.isFinite(seconds) && seconds > 0 ? seconds : STALL_SECONDS) * 1000
  let timer: ReturnType<typeof setTimeout> | undefined
  const touch = () => {
    clearTimeout(timer)
    timer = setTimeout(() => controller.abort(new DOMException(`no progress for ${ms / 1000} s`, 'TimeoutError')), ms)
  }
  return { touch, stop: () => clearTimeout(timer) }
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
  const controller = new AbortController()
  const stall = stallTimer(env, controller)
  // Each piece the enclave pulls is progress; once it has the last, the same time is left for its answer.
  const watched = ciphertext.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(piece, out) {
        stall.touch()
        out.enqueue(piece)
      },
      flush: () => stall.touch(),
    }),
  )
  stall.touch()
  try {
    const res = await reaching('the enclave host', url, () =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', 'x-stillflow-ingest': header },
        body: watched,
        signal: controller.signal,
      }),
    )
    if (!res.ok) throw new UpstreamError('enclave', res.status, await res.text())
    return await res.json()
  } finally {
    stall.stop()
  }
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
