// What the enclave takes from outside instead of reading globals: randomness and time, so every
// enclave computation is reproducible in tests (STYLE.md: inject time and randomness).

export interface EnclaveRuntime {
  /** Cryptographically secure random bytes (crypto.getRandomValues in production). */
  randomBytes(length: number): Uint8Array
  /** Current time in unix milliseconds. */
  now(): number
}

/** The production runtime: WebCrypto's CSPRNG (in 64 KiB slices, its per-call limit) and Date.now. */
export const systemRuntime: EnclaveRuntime = {
  randomBytes(length: number): Uint8Array {
    const out = new Uint8Array(length)
    for (let o = 0; o < length; o += 65536) crypto.getRandomValues(out.subarray(o, Math.min(length, o + 65536)))
    return out
  },
  now: () => Date.now(),
}

/** Unix seconds from a runtime. */
export const nowSeconds = (rt: EnclaveRuntime): number => Math.floor(rt.now() / 1000)
