import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { utf8 } from '../../tee-sim/src/bytes'
import { UnsealError } from '../../tee-sim/src/errors'
import { seal, unseal } from '../../tee-sim/src/enclave/sealing'
import { createSimulatedPlatform } from '../../tee-sim/src/platform/simulated-platform'
import { MEASUREMENT_A, MEASUREMENT_B, PLATFORM_SECRET, testRuntime } from './support'

const rt = testRuntime('sealing')
const a = createSimulatedPlatform({ platformSecret: PLATFORM_SECRET, measurement: MEASUREMENT_A })
const b = createSimulatedPlatform({ platformSecret: PLATFORM_SECRET, measurement: MEASUREMENT_B })
const otherMachine = createSimulatedPlatform({ platformSecret: new Uint8Array(32).fill(8), measurement: MEASUREMENT_A })

describe('sealing', () => {
  it('open(seal(x)) = x', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), fc.string(), (x, label) => {
        expect(unseal(a.sealingKey(label), label, seal(a.sealingKey(label), label, x, rt))).toEqual(x)
      }),
      { numRuns: 100 },
    )
  })

  it('another measurement (another build) cannot unseal', () => {
    const sealed = seal(a.sealingKey('state'), 'state', utf8('cluster key'), rt)
    expect(() => unseal(b.sealingKey('state'), 'state', sealed)).toThrow(UnsealError)
  })

  it('another platform secret (another machine) cannot unseal', () => {
    const sealed = seal(a.sealingKey('state'), 'state', utf8('cluster key'), rt)
    expect(() => unseal(otherMachine.sealingKey('state'), 'state', sealed)).toThrow(UnsealError)
  })

  it('a blob sealed for one label does not open as another', () => {
    const sealed = seal(a.sealingKey('state'), 'state', utf8('x'), rt)
    expect(() => unseal(a.sealingKey('state'), 'ledger', sealed)).toThrow(UnsealError)
  })

  it('any flipped bit, truncation or extension is detected', () => {
    const key = a.sealingKey('state')
    const sealed = seal(key, 'state', utf8('ε ledger and key store'), rt)
    fc.assert(
      fc.property(fc.nat({ max: sealed.length * 8 - 1 }), (bit) => {
        const t = sealed.slice()
        t[bit >> 3] ^= 1 << (bit & 7)
        expect(() => unseal(key, 'state', t)).toThrow(UnsealError)
      }),
      { numRuns: 200 },
    )
    expect(() => unseal(key, 'state', sealed.subarray(0, sealed.length - 1))).toThrow(UnsealError)
    expect(() => unseal(key, 'state', new Uint8Array([...sealed, 0]))).toThrow(UnsealError)
    expect(() => unseal(key, 'state', new Uint8Array(10))).toThrow(UnsealError)
  })

  it('derives distinct keys per label and per measurement', () => {
    expect(a.sealingKey('x')).not.toEqual(a.sealingKey('y'))
    expect(a.sealingKey('x')).not.toEqual(b.sealingKey('x'))
    expect(a.sealingKey('x')).toEqual(a.sealingKey('x'))
  })
})
