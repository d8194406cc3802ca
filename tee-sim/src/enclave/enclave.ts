// The trusted enclave: boots from sealed state (or creates its keys), attests, and serves ingest and
// jobs. Everything it needs from outside — platform, chain, time, randomness, storage — is injected.
import { bytesToHex, hexToBytes, isHex, type Hex } from '../bytes'
import { addressOfSecretKey } from '../eip712'
import { ChainUnavailableError, InvalidInputError } from '../errors'
import { x25519PublicKey } from '../hpke'
import type { AttestationDocument } from '../quote'
import type { Platform } from '../platform/simulated-platform'
import { PrivacyBudget } from './budget'
import type { ChainReader } from './chain-reader'
import { nowSeconds, type EnclaveRuntime } from './runtime'
import { freshState, sealState, unsealState, type EnclaveState, type SealedStore } from './state'

export interface EnclaveOptions {
  platform: Platform
  store: SealedStore
  runtime: EnclaveRuntime
  /** Resolves the chain reader when needed (the chain may come up after the enclave). */
  chain?: () => Promise<ChainReader>
}

export interface EnclaveIdentity {
  measurement: Hex
  signer: Hex
  clusterPublicKey: Hex
}

export class Enclave {
  readonly platform: Platform
  readonly runtime: EnclaveRuntime
  private readonly chainAccess?: () => Promise<ChainReader>
  /** Mutable enclave state; persisted (sealed) by `persist()` after each change. */
  readonly state: EnclaveState
  readonly identity: EnclaveIdentity
  /** ε and job reservations against the sealed ledger (in-flight reservations live in memory). */
  readonly budget: PrivacyBudget
  private readonly store: SealedStore
  private writing: Promise<void> = Promise.resolve()

  private constructor(opts: EnclaveOptions, state: EnclaveState) {
    this.platform = opts.platform
    this.runtime = opts.runtime
    this.chainAccess = opts.chain
    this.store = opts.store
    this.state = state
    this.budget = new PrivacyBudget(state.ledger)
    this.identity = {
      measurement: opts.platform.measurement,
      signer: addressOfSecretKey(hexToBytes(state.signerSecretKey, 32)),
      clusterPublicKey: bytesToHex(x25519PublicKey(hexToBytes(state.clusterSecretKey, 32))),
    }
  }

  /** Unseals existing state (UnsealError if another build sealed it or it was tampered with) or creates fresh keys. */
  static async boot(opts: EnclaveOptions): Promise<Enclave> {
    const sealed = await opts.store.read()
    if (sealed) return new Enclave(opts, unsealState(opts.platform, sealed))
    const enclave = new Enclave(opts, freshState(opts.runtime))
    await enclave.persist()
    return enclave
  }

  /** Seals the current state and hands it to the host's store; writes are serialised. */
  persist(): Promise<void> {
    const sealed = sealState(this.platform, this.state, this.runtime)
    this.writing = this.writing.then(() => this.store.write(sealed))
    return this.writing
  }

  /** A fresh quote over this enclave's identity for the verifier's 32-byte nonce. */
  attest(nonce: string): AttestationDocument {
    if (!isHex(nonce, 32)) throw new InvalidInputError('nonce must be 32 bytes of 0x hex')
    return this.platform.quote({
      signer: this.identity.signer,
      clusterPublicKey: this.identity.clusterPublicKey,
      nonce: nonce.toLowerCase() as Hex,
      issuedAt: nowSeconds(this.runtime),
    })
  }

  /** The chain reader; ChainUnavailableError when the enclave has none. */
  async chain(): Promise<ChainReader> {
    if (!this.chainAccess) throw new ChainUnavailableError('enclave has no chain access')
    try {
      return await this.chainAccess()
    } catch (cause) {
      if (cause instanceof ChainUnavailableError) throw cause
      throw new ChainUnavailableError('chain reader could not be created', { cause })
    }
  }

  /** The cluster secret key as bytes (a fresh copy the caller must wipe). */
  clusterSecretKey(): Uint8Array {
    return hexToBytes(this.state.clusterSecretKey, 32)
  }

  /** The signer secret key as bytes (a fresh copy the caller must wipe). */
  signerSecretKey(): Uint8Array {
    return hexToBytes(this.state.signerSecretKey, 32)
  }
}
