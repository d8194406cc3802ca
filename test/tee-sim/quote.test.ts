import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { hexToBytes, bytesToHex } from '../../tee-sim/src/bytes'
import { addressOfSecretKey } from '../../tee-sim/src/eip712'
import { QuoteVerificationError } from '../../tee-sim/src/errors'
import {
  createSimulatedPlatform,
  SIMULATED_VENDOR_ROOT_SECRET_KEY,
} from '../../tee-sim/src/platform/simulated-platform'
import {
  SIMULATED_VENDOR_ROOT_ADDRESS,
  SimulatedVendorQuoteVerifier,
  verifyQuote,
  type AttestationDocument,
} from '../../tee-sim/src/quote'
import { MEASUREMENT_A, PLATFORM_SECRET, nonceHex } from './support'

const platform = createSimulatedPlatform({ platformSecret: PLATFORM_SECRET, measurement: MEASUREMENT_A })
const statement = {
  signer: '0xA9b1690b4125446a4D565477A9Ed3A74EAD61328' as const,
  clusterPublicKey: `0x${'c1'.repeat(32)}` as const,
  nonce: nonceHex(1),
  issuedAt: 1_800_000_000,
}
const doc = platform.quote(statement)

describe('the SIMULATED vendor root', () => {
  it('is the published address of the development key', () => {
    expect(addressOfSecretKey(SIMULATED_VENDOR_ROOT_SECRET_KEY)).toBe(SIMULATED_VENDOR_ROOT_ADDRESS)
    expect(doc.platform).toBe('SIMULATED')
    expect(doc.vendorRoot).toBe(SIMULATED_VENDOR_ROOT_ADDRESS)
  })
})

describe('verifyQuote', () => {
  it('accepts a fresh quote and returns the attested identity', async () => {
    const v = await verifyQuote(doc, {
      expectedNonce: nonceHex(1),
      expectedMeasurement: MEASUREMENT_A,
      now: 1_800_000_010,
      maxAgeSeconds: 60,
    })
    expect(v).toEqual({
      platform: 'SIMULATED',
      measurement: MEASUREMENT_A,
      signer: statement.signer,
      clusterPublicKey: statement.clusterPublicKey,
      nonce: nonceHex(1),
      issuedAt: 1_800_000_000,
    })
  })

  it('inserts the platform measurement, not one the enclave claims', () => {
    expect(doc.quote.measurement).toBe(MEASUREMENT_A)
  })

  it('rejects another nonce, a missing nonce, another measurement, an unapproved one, and a stale quote', async () => {
    await expect(verifyQuote(doc, { expectedNonce: nonceHex(2) })).rejects.toThrow(QuoteVerificationError)
    await expect(verifyQuote(doc, {})).rejects.toThrow(/expectedNonce/)
    await expect(
      verifyQuote(doc, { expectedNonce: nonceHex(1), expectedMeasurement: `0x${'bb'.repeat(32)}` }),
    ).rejects.toThrow(/measurement/)
    await expect(verifyQuote(doc, { expectedNonce: nonceHex(1), isMeasurementApproved: () => false })).rejects.toThrow(
      /not approved/,
    )
    await expect(
      verifyQuote(doc, {
        expectedNonce: nonceHex(1),
        isMeasurementApproved: () => Promise.reject(new Error('rpc down')),
      }),
    ).rejects.toThrow(/approval/)
    await expect(
      verifyQuote(doc, { expectedNonce: nonceHex(1), now: 1_800_000_000 + 3601, maxAgeSeconds: 3600 }),
    ).rejects.toThrow(/too old/)
    await expect(
      verifyQuote(doc, { expectedNonce: nonceHex(1), now: 1_800_000_000 - 3600, maxAgeSeconds: 3600 }),
    ).rejects.toThrow(/future/)
    expect(
      (await verifyQuote(doc, { expectedNonce: nonceHex(1), isMeasurementApproved: (m) => m === MEASUREMENT_A }))
        .measurement,
    ).toBe(MEASUREMENT_A)
  })

  it('rejects a quote signed by another root', async () => {
    const rogue = createSimulatedPlatform({
      platformSecret: PLATFORM_SECRET,
      measurement: MEASUREMENT_A,
      vendorSecretKey: new Uint8Array(32).fill(9),
    })
    await expect(verifyQuote(rogue.quote(statement), { expectedNonce: nonceHex(1) })).rejects.toThrow(
      /trusted vendor root/,
    )
    // ...unless the caller trusts that root explicitly (how a test vendor or real platform plugs in).
    const verifier = new SimulatedVendorQuoteVerifier(addressOfSecretKey(new Uint8Array(32).fill(9)))
    await expect(verifyQuote(rogue.quote(statement), { expectedNonce: nonceHex(1), verifier })).resolves.toMatchObject({
      measurement: MEASUREMENT_A,
    })
  })

  it('never verifies when any quote field or signature byte is changed', async () => {
    const fields = ['measurement', 'signer', 'clusterPublicKey', 'nonce', 'issuedAt'] as const
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fields, 'vendorSignature' as const),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (field, pos, delta) => {
          const t = structuredClone(doc) as AttestationDocument
          if (field === 'issuedAt') t.quote.issuedAt += delta
          else {
            const src = field === 'vendorSignature' ? t.vendorSignature : t.quote[field]
            const b = hexToBytes(src)
            const i = pos % (field === 'vendorSignature' ? 64 : b.length) // r ‖ s bytes (v is checked separately)
            b[i] ^= delta
            const h = bytesToHex(b)
            if (field === 'vendorSignature') t.vendorSignature = h
            else t.quote[field] = h
            if (field === 'clusterPublicKey') t.clusterPublicKey = h
          }
          await expect(verifyQuote(t, { allowAnyNonce: true })).rejects.toThrow(QuoteVerificationError)
        },
      ),
      { numRuns: 60 },
    )
  })

  it('rejects malformed documents with a QuoteVerificationError', async () => {
    const bad: unknown[] = [
      null,
      1,
      'x',
      {},
      { ...doc, kind: 'other' },
      { ...doc, platform: 'aws-nitro' },
      { ...doc, quote: null },
      { ...doc, quote: { ...doc.quote, issuedAt: -1 } },
      { ...doc, quote: { ...doc.quote, signer: '0x12' } },
      { ...doc, vendorSignature: '0x' },
      { ...doc, clusterPublicKey: `0x${'00'.repeat(32)}` },
    ]
    for (const b of bad) await expect(verifyQuote(b, { allowAnyNonce: true })).rejects.toThrow(QuoteVerificationError)
  })
})
