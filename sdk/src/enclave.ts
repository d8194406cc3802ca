// Before any key leaves the owner's machine: check the enclave's quote against the vendor root and its
// measurement against EnclaveRegistry on a chain the client chooses (DESIGN §3 Publish step 1; R53).
import { Contract, JsonRpcProvider, hexlify, type Provider } from 'ethers'
import { enclaveRegistryAbi } from '../../contracts/index'
import { verifyQuote, type QuoteVerifier, type VerifiedEnclave } from '../../tee-sim/src/index'
import type { ApiClient } from './api'
import { EnclaveNotTrustedError, ServiceUnreachableError } from './errors'

/** What GET /api/enclave returns: the enclave's attestation and the chain it serves. */
export interface EnclaveInfo {
  attestation: unknown
  chainId: number
  contracts: Record<string, string>
}

export interface TrustedEnclave extends VerifiedEnclave {
  chainId: number
  contracts: Record<string, string>
}

export interface TrustEnclaveOptions {
  /** JSON-RPC of the chain to check the measurement on; the client's own choice, not the operator's. */
  rpcUrl?: string
  /**
   * Or a provider of the client's own, e.g. a browser wallet's (EIP-1193 through ethers' BrowserProvider):
   * the check then reads the chain the user's wallet trusts. One of `rpcUrl` and `provider` is required.
   */
  provider?: Provider
  /**
   * The EnclaveRegistry address this client trusts, from a source of its own (a pinned config, the
   * marketplace's published address book). The API names the registry too, and an operator could name one
   * it deployed itself, approving any build: when this is given, any other address is refused. Without
   * it, the approval is only as good as the address the API serves.
   */
  registry?: string
  /** A real TEE's verifier; the SIMULATED vendor root by default. */
  verifier?: QuoteVerifier
  /** Oldest quote accepted, seconds (default 600). */
  maxAgeSeconds?: number
  now?: () => number
  randomNonce?: () => Uint8Array
}

export async function trustEnclave(api: ApiClient, opts: TrustEnclaveOptions): Promise<TrustedEnclave> {
  const nonce = hexlify((opts.randomNonce ?? (() => crypto.getRandomValues(new Uint8Array(32))))())
  if (!opts.provider && !opts.rpcUrl)
    throw new TypeError('trustEnclave needs the client’s own chain access: rpcUrl or provider')
  const info = await api.request<EnclaveInfo>(`/enclave?nonce=${nonce}`)
  const own = opts.provider
  const provider = own ?? new JsonRpcProvider(opts.rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 })
  try {
    const network = (await provider.getNetwork()).chainId
    if (Number(network) !== info.chainId) {
      throw new EnclaveNotTrustedError(
        `the API serves chain ${info.chainId} but ${opts.rpcUrl ?? 'the wallet'} is chain ${Number(network)}`,
      )
    }
    const named = String(info.contracts?.EnclaveRegistry ?? '')
    if (opts.registry !== undefined && named.toLowerCase() !== opts.registry.toLowerCase()) {
      throw new EnclaveNotTrustedError(
        `the API names EnclaveRegistry ${named || '(none)'}, but this client trusts ${opts.registry}: ` +
          'approvals from any other registry prove nothing',
      )
    }
    const registry = new Contract(named, enclaveRegistryAbi, provider)
    let verified: VerifiedEnclave
    try {
      verified = await verifyQuote(info.attestation, {
        verifier: opts.verifier,
        expectedNonce: nonce,
        isMeasurementApproved: async (m) => Boolean(await registry.isMeasurementApproved(m)),
        now: Math.floor((opts.now ?? Date.now)() / 1000),
        maxAgeSeconds: opts.maxAgeSeconds ?? 600,
      })
    } catch (err) {
      // A chain that does not answer is not an attestation that failed.
      if (unreachable(err)) throw err
      throw new EnclaveNotTrustedError('the enclave attestation does not verify', {
        cause: err,
        details: (err as Error).message,
      })
    }
    const registeredAs = String(await registry.enclaveMeasurement(verified.signer)).toLowerCase()
    if (registeredAs !== verified.measurement.toLowerCase()) {
      throw new EnclaveNotTrustedError(`enclave signer ${verified.signer} is not registered in EnclaveRegistry`)
    }
    return { ...verified, chainId: info.chainId, contracts: info.contracts }
  } catch (err) {
    if (unreachable(err))
      throw new ServiceUnreachableError(
        `the chain at ${opts.rpcUrl ?? 'the wallet’s RPC'} could not be reached (${unreachable(err)}); the enclave's approval is read there`,
        { cause: err },
      )
    throw err
  } finally {
    if (!own) provider.destroy() // a caller's provider is the caller's to close
  }
}

/** The system's reason when `err` is a chain RPC that could not be reached (ECONNREFUSED…), else undefined. */
function unreachable(err: unknown): string | undefined {
  const e = err as { code?: string; message?: string; error?: { code?: string }; cause?: { code?: string } }
  const code = e?.cause?.code ?? e?.error?.code ?? e?.code
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code) && code !== 'ERR') return code
  const m = /\b(ECONNREFUSED|ENOTFOUND|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|EAI_AGAIN)\b/.exec(e?.message ?? '')
  if (m) return m[1]
  if (e?.code === 'NETWORK_ERROR' || e?.code === 'TIMEOUT') return e.code
  return undefined
}
