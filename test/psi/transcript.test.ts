// The session transcript hash (sdk/src/psi/transcript.ts): its exact layout, that every field is bound,
// and the check of an on-chain commitment against a party's own transcript.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import {
  messageDigest,
  PsiCommitmentMismatchError,
  psiTranscriptHash,
  verifyPsiCommitment,
  type PsiTranscript,
} from '../../sdk/src/psi/index'

const d = (n: number) => '0x' + n.toString(16).padStart(2, '0').repeat(32)
const base: PsiTranscript = {
  chainId: 31337,
  sessionId: '0x' + 'ab'.repeat(32),
  partyA: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
  partyB: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
  digests: { s: d(1), t: d(2), u: d(3), v: d(4) },
  sizeA: 5,
  sizeB: 7,
  intersectionSize: 2,
}

describe('psiTranscriptHash', () => {
  it('is SHA-256 of the documented fixed layout', () => {
    const hex = (s: string) => Buffer.from(s.replace(/^0x/, ''), 'hex')
    const u32 = (n: number) => {
      const b = Buffer.alloc(4)
      b.writeUInt32BE(n)
      return b
    }
    const chain = Buffer.alloc(8)
    chain.writeBigUInt64BE(31337n)
    const expected = createHash('sha256')
      .update('Stillflow-PSI-session-transcript-v1')
      .update(chain)
      .update(hex(base.sessionId))
      .update(hex(base.partyA))
      .update(hex(base.partyB))
      .update(Buffer.concat([1, 2, 3, 4].map((n) => hex(d(n)))))
      .update(Buffer.concat([u32(5), u32(7), u32(2)]))
      .digest('hex')
    expect(psiTranscriptHash(base)).toBe('0x' + expected)
    // Address case does not matter (checksummed or lower case name the same party).
    expect(psiTranscriptHash({ ...base, partyA: base.partyA.toLowerCase() })).toBe('0x' + expected)
  })

  it('changes when any field changes, including swapping the parties or two messages', () => {
    const h = psiTranscriptHash(base)
    const variants: Partial<PsiTranscript>[] = [
      { chainId: 1 },
      { sessionId: '0x' + 'ac'.repeat(32) },
      { partyA: base.partyB, partyB: base.partyA },
      { digests: { ...base.digests, s: d(2), t: d(1) } },
      { digests: { ...base.digests, u: d(4), v: d(3) } },
      { digests: { ...base.digests, v: d(9) } },
      { sizeA: 7, sizeB: 5 },
      { intersectionSize: 3 },
    ]
    const seen = new Set([h])
    for (const v of variants) seen.add(psiTranscriptHash({ ...base, ...v }))
    expect(seen.size).toBe(variants.length + 1)
  })

  it('refuses malformed fields', () => {
    const bad: Partial<PsiTranscript>[] = [
      { chainId: 0 },
      { sessionId: '0x1234' },
      { partyA: 'nobody' },
      { digests: { ...base.digests, u: 'zz' } },
      { sizeA: -1 },
      { intersectionSize: 2 ** 32 },
      { sizeB: 1.5 },
    ]
    for (const b of bad) expect(() => psiTranscriptHash({ ...base, ...b }), JSON.stringify(b)).toThrow()
  })

  it('digests a message as SHA-256 of its bytes', () => {
    expect(messageDigest(new Uint8Array())).toBe('0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })
})

describe('verifyPsiCommitment', () => {
  it('accepts the matching commitment and names what differs otherwise', () => {
    const transcriptHash = psiTranscriptHash(base)
    expect(() => verifyPsiCommitment(base, { transcriptHash, intersectionSize: 2 })).not.toThrow()
    expect(() =>
      verifyPsiCommitment(base, {
        transcriptHash: transcriptHash.toUpperCase().replace('0X', '0x'),
        intersectionSize: 2,
      }),
    ).not.toThrow()
    expect(() => verifyPsiCommitment(base, { transcriptHash, intersectionSize: 3 })).toThrow(/intersection size 3/)
    expect(() =>
      verifyPsiCommitment({ ...base, intersectionSize: 3 }, { transcriptHash, intersectionSize: 3 }),
    ).toThrow(PsiCommitmentMismatchError)
    expect(() => verifyPsiCommitment(base, { transcriptHash: '0x' + '00'.repeat(32), intersectionSize: 0 })).toThrow(
      /no commitment/,
    )
  })
})
