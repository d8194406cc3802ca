// Enclave-mode PSI over two parsed assets: exact intersection, and a DP count whose noise is ε-scaled.
import { describe, expect, it } from 'vitest'
import { parseDataset } from '../../tee-sim/src/enclave/dataset'
import { RandomSource } from '../../tee-sim/src/enclave/dp/random'
import { psiOverDatasets } from '../../tee-sim/src/enclave/psi'
import { seededRandom } from './support'

const enc = new TextEncoder()
const csv = (text: string) => parseDataset('csv', [enc.encode(text)])
const rng = (label: string) => new RandomSource({ randomBytes: seededRandom(label) })

describe('psiOverDatasets', async () => {
  const a = await csv('email,age\nann@x.org,31\nbob@x.org,40\ncy@x.org,22\nann@x.org,31\n')
  const b = await csv('contact,score\ncy@x.org,1\nann@x.org,2\ndan@x.org,3\n')

  it('releases the exact intersection of distinct values', () => {
    expect(
      psiOverDatasets(a, b, { columnA: 'email', columnB: 'contact', release: { kind: 'intersection' } }, rng('i')),
    ).toEqual({
      kind: 'intersection',
      values: ['ann@x.org', 'cy@x.org'],
      size: 2,
    })
  })

  it('releases a DP count: never negative, centred on the true size, tighter for larger ε', () => {
    const spread = (epsilonMilli: number) => {
      const r = rng(`dp${epsilonMilli}`)
      const xs = Array.from({ length: 400 }, () => {
        const out = psiOverDatasets(
          a,
          b,
          { columnA: 'email', columnB: 'contact', release: { kind: 'count', epsilonMilli } },
          r,
        )
        if (out.kind !== 'count') throw new Error('expected a count')
        expect(out.noisyCount).toBeGreaterThanOrEqual(0)
        return out.noisyCount
      })
      return xs.reduce((s, x) => s + Math.abs(x - 2), 0) / xs.length
    }
    expect(spread(4000)).toBeLessThan(spread(250))
    expect(spread(4000)).toBeLessThan(1)
  })

  it('refuses unknown and non-identifier columns', () => {
    const spec = { columnA: 'nope', columnB: 'contact', release: { kind: 'intersection' as const } }
    expect(() => psiOverDatasets(a, b, spec, rng('x'))).toThrow(/no column "nope"/)
  })
})
