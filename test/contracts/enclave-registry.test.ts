import { TypedDataEncoder, Wallet, ZeroAddress, ZeroHash, id } from 'ethers'
import { beforeEach, describe, expect, it } from 'vitest'
import { enclaveQuoteDomain, enclaveQuoteTypes } from '../../contracts/index'
import {
  MEASUREMENT,
  as,
  deployWorld,
  enclaveKey,
  expectEvent,
  expectRevert,
  latestTimestamp,
  mined,
  setNextTimestamp,
  vendorKey,
  vendorQuote,
  word,
  type World,
} from './fixture'

let w: World
const SUPERVISOR_ROLE = id('SUPERVISOR_ROLE')
const MEASUREMENT_2 = word('enclave build 2')

beforeEach(async () => {
  w = await deployWorld()
})

describe('EnclaveRegistry deployment', () => {
  it('starts with the vendor root, quote age and measurements it was given', async () => {
    expect(await w.registry.vendorRoot()).toBe(vendorKey.address)
    expect(await w.registry.maxQuoteAge()).toBe(3_600n)
    expect(await w.registry.isMeasurementApproved(MEASUREMENT)).toBe(true)
    expect(await w.registry.isMeasurementApproved(MEASUREMENT_2)).toBe(false)
    expect(await w.registry.MAX_CLOCK_SKEW()).toBe(300n)
  })

  it('uses the vendor domain without chain id, exactly as the TypeScript types say', async () => {
    const encoded = TypedDataEncoder.from(enclaveQuoteTypes).encodeType('EnclaveQuote')
    expect(encoded).toBe(
      'EnclaveQuote(bytes32 measurement,address signer,bytes32 clusterPublicKey,bytes32 nonce,uint64 issuedAt)',
    )
    expect(await w.registry.ENCLAVE_QUOTE_TYPEHASH()).toBe(id(encoded))
    const { quote } = await vendorQuote({ issuedAt: 1_700_000_000 })
    expect(await w.registry.hashQuote(quote)).toBe(TypedDataEncoder.hash(enclaveQuoteDomain, enclaveQuoteTypes, quote))
  })
})

describe('EnclaveRegistry.approveMeasurement / retireMeasurement', () => {
  it('lets a supervisor approve and retire, each logged', async () => {
    const a = await mined(as(w.registry, w.supervisor).approveMeasurement(MEASUREMENT_2))
    expectEvent(a, w.registry, 'MeasurementApproved', [MEASUREMENT_2, w.supervisor.address])
    expect(await w.registry.isMeasurementApproved(MEASUREMENT_2)).toBe(true)
    const r = await mined(as(w.registry, w.supervisor).retireMeasurement(MEASUREMENT_2))
    expectEvent(r, w.registry, 'MeasurementRetired', [MEASUREMENT_2, w.supervisor.address])
    expect(await w.registry.isMeasurementApproved(MEASUREMENT_2)).toBe(false)
  })

  it('refuses duplicates, zero, retiring the unapproved, and non-supervisors', async () => {
    await expectRevert(
      as(w.registry, w.supervisor).approveMeasurement(MEASUREMENT),
      'EnclaveRegistryMeasurementAlreadyApproved',
      [MEASUREMENT],
    )
    await expectRevert(as(w.registry, w.supervisor).approveMeasurement(ZeroHash), 'EnclaveRegistryZeroMeasurement', [])
    await expectRevert(
      as(w.registry, w.supervisor).retireMeasurement(MEASUREMENT_2),
      'EnclaveRegistryMeasurementNotApproved',
      [MEASUREMENT_2],
    )
    for (const s of [w.admin, w.relayer]) {
      await expectRevert(as(w.registry, s).approveMeasurement(MEASUREMENT_2), 'AccessControlUnauthorizedAccount', [
        s.address,
        SUPERVISOR_ROLE,
      ])
      await expectRevert(as(w.registry, s).retireMeasurement(MEASUREMENT), 'AccessControlUnauthorizedAccount', [
        s.address,
        SUPERVISOR_ROLE,
      ])
    }
  })
})

describe('EnclaveRegistry.registerEnclave', () => {
  it('registers the signer of a fresh vendor quote for an approved measurement; anyone may submit', async () => {
    const issuedAt = await latestTimestamp()
    const { quote, sig } = await vendorQuote({ issuedAt })
    const r = await mined(as(w.registry, w.stranger).registerEnclave(quote, sig))
    expectEvent(r, w.registry, 'EnclaveRegistered', [
      enclaveKey.address,
      MEASUREMENT,
      quote.clusterPublicKey,
      quote.nonce,
      BigInt(issuedAt),
    ])
    expect(await w.registry.enclaveMeasurement(enclaveKey.address)).toBe(MEASUREMENT)
    expect((await w.registry.enclaveStatus(enclaveKey.address)).toArray()).toEqual([MEASUREMENT, true])
    const block = await w.registry.runner!.provider!.getBlock(r.blockNumber)
    expect((await w.registry.enclave(enclaveKey.address)).toArray()).toEqual([
      MEASUREMENT,
      quote.clusterPublicKey,
      BigInt(block!.timestamp),
    ])
    expect(await w.registry.isQuoteNonceUsed(quote.nonce)).toBe(true)
  })

  it('reports zero for unregistered signers', async () => {
    expect(await w.registry.enclaveMeasurement(w.stranger.address)).toBe(ZeroHash)
    expect((await w.registry.enclaveStatus(w.stranger.address)).toArray()).toEqual([ZeroHash, false])
  })

  it('refuses quotes not signed by the vendor root, tampered or malformed', async () => {
    const issuedAt = await latestTimestamp()
    const impostor = new Wallet(word('impostor vendor'))
    const forged = await vendorQuote({ issuedAt }, impostor)
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(forged.quote, forged.sig),
      'EnclaveRegistryInvalidVendorSignature',
      [impostor.address],
    )
    const { quote, sig } = await vendorQuote({ issuedAt })
    const tampered = { ...quote, clusterPublicKey: word('attacker key') }
    const recovered = (await import('ethers')).verifyTypedData(enclaveQuoteDomain, enclaveQuoteTypes, tampered, sig)
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(tampered, sig),
      'EnclaveRegistryInvalidVendorSignature',
      [recovered],
    )
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(quote, '0x1234'),
      'EnclaveRegistryInvalidVendorSignature',
      [ZeroAddress],
    )
  })

  it('refuses unapproved or retired measurements and a zero signer', async () => {
    const issuedAt = await latestTimestamp()
    const unapproved = await vendorQuote({ issuedAt, measurement: MEASUREMENT_2 })
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(unapproved.quote, unapproved.sig),
      'EnclaveRegistryMeasurementNotApproved',
      [MEASUREMENT_2],
    )
    const zero = await vendorQuote({ issuedAt, signer: ZeroAddress })
    await expectRevert(as(w.registry, w.relayer).registerEnclave(zero.quote, zero.sig), 'EnclaveRegistryZeroSigner', [])
    await mined(as(w.registry, w.supervisor).retireMeasurement(MEASUREMENT))
    const retired = await vendorQuote({ issuedAt })
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(retired.quote, retired.sig),
      'EnclaveRegistryMeasurementNotApproved',
      [MEASUREMENT],
    )
  })

  it('refuses stale quotes, quotes from the future and reused nonces', async () => {
    const now = await latestTimestamp()
    const t = now + 100
    const stale = await vendorQuote({ issuedAt: t - 3_601 })
    await setNextTimestamp(t)
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(stale.quote, stale.sig, { gasLimit: 500_000 }),
      'EnclaveRegistryQuoteExpired',
      [BigInt(t - 3_601), 3_600n, BigInt(t)],
    )
    const t2 = t + 10
    const future = await vendorQuote({ issuedAt: t2 + 301 })
    await setNextTimestamp(t2)
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(future.quote, future.sig, { gasLimit: 500_000 }),
      'EnclaveRegistryQuoteFromFuture',
      [BigInt(t2 + 301), BigInt(t2)],
    )
    const t3 = t2 + 10
    const edge = await vendorQuote({ issuedAt: t3 - 3_600 }) // exactly max age old: still accepted
    await setNextTimestamp(t3)
    await mined(as(w.registry, w.relayer).registerEnclave(edge.quote, edge.sig, { gasLimit: 500_000 }))
    const reuse = await vendorQuote({
      issuedAt: await latestTimestamp(),
      nonce: edge.quote.nonce,
      signer: w.other.address,
    })
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(reuse.quote, reuse.sig),
      'EnclaveRegistryQuoteNonceUsed',
      [edge.quote.nonce],
    )
  })

  it('refuses registration while paused', async () => {
    const { quote, sig } = await vendorQuote({ issuedAt: await latestTimestamp() })
    await mined(as(w.registry, w.supervisor).pause())
    await expectRevert(as(w.registry, w.relayer).registerEnclave(quote, sig), 'StillflowRolesEnforcedPause', [])
  })
})

describe('EnclaveRegistry.deregisterEnclave', () => {
  it('lets a supervisor remove a registered key', async () => {
    const { quote, sig } = await vendorQuote({ issuedAt: await latestTimestamp() })
    await mined(as(w.registry, w.relayer).registerEnclave(quote, sig))
    const r = await mined(as(w.registry, w.supervisor).deregisterEnclave(enclaveKey.address))
    expectEvent(r, w.registry, 'EnclaveDeregistered', [enclaveKey.address, w.supervisor.address])
    expect(await w.registry.enclaveMeasurement(enclaveKey.address)).toBe(ZeroHash)
    // For good: anyone can submit a fresh vendor quote, but not for a key a supervisor removed.
    const again = await vendorQuote({ issuedAt: await latestTimestamp(), nonce: word('after deregistration') })
    await expectRevert(
      as(w.registry, w.stranger).registerEnclave(again.quote, again.sig),
      'EnclaveRegistrySignerDeregistered',
      [enclaveKey.address],
    )
    expect(await w.registry.enclaveMeasurement(enclaveKey.address)).toBe(ZeroHash)
  })

  it('refuses unknown keys and non-supervisors', async () => {
    await expectRevert(
      as(w.registry, w.supervisor).deregisterEnclave(enclaveKey.address),
      'EnclaveRegistryUnknownEnclave',
      [enclaveKey.address],
    )
    await expectRevert(
      as(w.registry, w.admin).deregisterEnclave(enclaveKey.address),
      'AccessControlUnauthorizedAccount',
      [w.admin.address, SUPERVISOR_ROLE],
    )
  })
})

describe('EnclaveRegistry parameters', () => {
  it('lets the admin replace the vendor root and the quote age, each logged', async () => {
    const newRoot = new Wallet(word('vendor root 2'))
    const r = await mined(as(w.registry, w.admin).setVendorRoot(newRoot.address))
    expectEvent(r, w.registry, 'VendorRootSet', [vendorKey.address, newRoot.address])
    const a = await mined(as(w.registry, w.admin).setMaxQuoteAge(60))
    expectEvent(a, w.registry, 'MaxQuoteAgeSet', [3_600n, 60n])
    expect(await w.registry.maxQuoteAge()).toBe(60n)
    const old = await vendorQuote({ issuedAt: await latestTimestamp() })
    await expectRevert(
      as(w.registry, w.relayer).registerEnclave(old.quote, old.sig),
      'EnclaveRegistryInvalidVendorSignature',
      [vendorKey.address],
    )
    const fresh = await vendorQuote({ issuedAt: await latestTimestamp() }, newRoot)
    await mined(as(w.registry, w.relayer).registerEnclave(fresh.quote, fresh.sig))
  })

  it('refuses a zero root, a zero age and non-admins', async () => {
    await expectRevert(as(w.registry, w.admin).setVendorRoot(ZeroAddress), 'EnclaveRegistryZeroVendorRoot', [])
    await expectRevert(as(w.registry, w.admin).setMaxQuoteAge(0), 'EnclaveRegistryZeroMaxQuoteAge', [])
    await expectRevert(
      as(w.registry, w.supervisor).setVendorRoot(w.other.address),
      'AccessControlUnauthorizedAccount',
      [w.supervisor.address, ZeroHash],
    )
    await expectRevert(as(w.registry, w.supervisor).setMaxQuoteAge(5), 'AccessControlUnauthorizedAccount', [
      w.supervisor.address,
      ZeroHash,
    ])
  })
})
