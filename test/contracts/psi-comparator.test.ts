// PsiComparator: the slides' comparator C as a contract, for small sets (R55, R61). The lists are
// produced by the real party code, so the test checks PSI(a, b) = a ∩ b end to end through the EVM.
import { Contract, Interface, type JsonRpcSigner } from 'ethers'
import { beforeAll, describe, expect, it } from 'vitest'
import { deployStillflow, psiComparatorAbi } from '../../contracts/index'
import { createPsiParty, loadPsiEngine, toHex, transcriptHash, type PsiEngine } from '../../sdk/src/psi/index'
import { seededRandom } from '../psi/support'
import { latestTimestamp, mined, provider, setNextTimestamp, vendorKey, word } from './fixture'

const iface = new Interface(psiComparatorAbi as never)
const hex32 = (b: Uint8Array) => '0x' + toHex(b)

async function expectPsiRevert(action: Promise<unknown>, name: string) {
  const err = await action.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!err) throw new Error(`expected ${name}, but the call succeeded`)
  const e = err as { data?: string; info?: { error?: { data?: string } }; error?: { data?: string } }
  const data = e.data ?? e.info?.error?.data ?? e.error?.data
  expect(iface.parseError(data as string)?.name).toBe(name)
}

/** Positions set in a bitmap of uint256 words (bit i of word i/256). */
function bits(words: bigint[]): number[] {
  const out: number[] = []
  words.forEach((w, k) => {
    for (let i = 0; i < 256; i++) if ((w >> BigInt(i)) & 1n) out.push(k * 256 + i)
  })
  return out
}

describe('PsiComparator', () => {
  let psi: Contract
  let a: JsonRpcSigner
  let b: JsonRpcSigner
  let stranger: JsonRpcSigner
  let engine: PsiEngine

  beforeAll(async () => {
    const [deployer, admin, relayer, supervisor, treasury, pa, pb, st] = await Promise.all(
      [0, 1, 2, 3, 4, 5, 6, 8].map((i) => provider.getSigner(i)),
    )
    const book = await deployStillflow(deployer, {
      admin: admin.address,
      relayer: relayer.address,
      supervisor: supervisor.address,
      treasury: treasury.address,
      vendorRoot: vendorKey.address,
      platformFeeBps: 250,
      psiComparator: true,
    })
    expect(book.contracts.PsiComparator).toMatch(/^0x[0-9a-fA-F]{40}$/)
    psi = new Contract(book.contracts.PsiComparator!, psiComparatorAbi as never, provider)
    ;[a, b, stranger] = [pa, pb, st]
    engine = await loadPsiEngine('node')
  })

  const c = (s: JsonRpcSigner) => psi.connect(s) as Contract

  async function openSession(label: string, maxElements = 64, ttl = 3600) {
    const id = word(label)
    await mined(c(a).open(id, b.address, maxElements, (await latestTimestamp()) + ttl))
    await mined(c(b).accept(id))
    return id
  }

  it('computes A ∩ B on chain, each party gets its own positions, the transcript matches the off-chain one', async () => {
    const itemsA = Array.from({ length: 40 }, (_, i) => `user-${i}@example.com`)
    const itemsB = Array.from({ length: 30 }, (_, i) => `user-${i * 2}@example.com`)
    const pa = createPsiParty({ items: itemsA, engine, random: seededRandom('chain-a') })
    const pb = createPsiParty({ items: itemsB, engine, random: seededRandom('chain-b') })
    const s = await pa.blindOwn()
    const t = await pb.blindOwn()
    const u = (await pa.blindPeer(t)).map(hex32)
    const v = (await pb.blindPeer(s)).map(hex32)

    const id = await openSession('psi session 1')
    await mined(c(a).submit(id, u))
    await mined(c(b).submit(id, v))
    const receipt = await mined(c(b).compare(id, u, v))
    const compared = receipt.logs.map((l) => iface.parseLog(l)).find((l) => l?.name === 'PsiCompared')!

    const forA = bits(await psi.matches(id, a.address))
    const forB = bits(await psi.matches(id, b.address))
    const want = itemsA.filter((x) => itemsB.includes(x)).sort()
    expect(pa.resolve(forA).values.sort()).toEqual(want)
    expect(pb.resolve(forB).values.sort()).toEqual(want)
    const session = await psi.session(id)
    expect(Number(session.intersectionSize)).toBe(want.length)
    const offChain = hex32(
      transcriptHash(
        Uint8Array.from(Buffer.from(id.slice(2), 'hex')),
        u.map((x) => Uint8Array.from(Buffer.from(x.slice(2), 'hex'))),
        v.map((x) => Uint8Array.from(Buffer.from(x.slice(2), 'hex'))),
      ),
    )
    expect(session.transcriptHash).toBe(offChain)
    expect(compared.args.transcriptHash).toBe(offChain)
    expect(Number(compared.args.intersectionSize)).toBe(want.length)
    // Gas for 40 × 30, reported in the PSI README.
    expect(receipt.gasUsed).toBeLessThan(3_000_000n)
  })

  it('handles empty and disjoint lists', async () => {
    const id = await openSession('psi session empty')
    await mined(c(a).submit(id, []))
    await mined(c(b).submit(id, [word('x')]))
    await mined(c(a).compare(id, [], [word('x')]))
    expect(bits(await psi.matches(id, a.address))).toEqual([])
    expect(Number((await psi.session(id)).intersectionSize)).toBe(0)
  })

  describe('consent and limits', () => {
    it('refuses strangers, unaccepted sessions, double submissions and oversize lists', async () => {
      const id = word('psi session consent')
      await mined(c(a).open(id, b.address, 2, (await latestTimestamp()) + 3600))
      await expectPsiRevert(c(a).open(id, b.address, 2, (await latestTimestamp()) + 3600), 'PsiComparatorSessionExists')
      await expectPsiRevert(c(a).submit(id, [word('1')]), 'PsiComparatorNotAccepted')
      await expectPsiRevert(c(stranger).accept(id), 'PsiComparatorNotParty')
      await expectPsiRevert(c(a).accept(id), 'PsiComparatorNotParty')
      await mined(c(b).accept(id))
      await expectPsiRevert(c(b).accept(id), 'PsiComparatorNotParty')
      await expectPsiRevert(c(stranger).submit(id, [word('1')]), 'PsiComparatorNotParty')
      await expectPsiRevert(c(a).submit(id, [word('1'), word('2'), word('3')]), 'PsiComparatorTooManyElements')
      await mined(c(a).submit(id, [word('1')]))
      await expectPsiRevert(c(a).submit(id, [word('1')]), 'PsiComparatorAlreadySubmitted')
      await expectPsiRevert(c(a).compare(id, [word('1')], []), 'PsiComparatorListMismatch')
      await mined(c(b).submit(id, [word('1')]))
      await expectPsiRevert(c(stranger).compare(id, [word('1')], [word('1')]), 'PsiComparatorNotParty')
      await expectPsiRevert(c(a).compare(id, [word('2')], [word('1')]), 'PsiComparatorListMismatch')
      await mined(c(a).compare(id, [word('1')], [word('1')]))
      await expectPsiRevert(c(b).compare(id, [word('1')], [word('1')]), 'PsiComparatorAlreadyCompared')
      await expectPsiRevert(c(a).accept(word('nope')), 'PsiComparatorUnknownSession')
    })

    it('refuses invalid sessions and anything after expiry', async () => {
      const now = await latestTimestamp()
      const bad: Array<[string, string, number, number]> = [
        ['0x' + '00'.repeat(32), b.address, 4, now + 100],
        [word('s2'), a.address, 4, now + 100],
        [word('s3'), '0x' + '00'.repeat(20), 4, now + 100],
        [word('s4'), b.address, 0, now + 100],
        [word('s5'), b.address, 513, now + 100],
        [word('s6'), b.address, 4, now - 1],
      ]
      for (const [id, partyB, max, exp] of bad)
        await expectPsiRevert(c(a).open(id, partyB, max, exp), 'PsiComparatorInvalidSession')
      const id = await openSession('psi session expiry', 4, 100)
      await setNextTimestamp((await latestTimestamp()) + 200)
      await expectPsiRevert(c(a).submit(id, []), 'PsiComparatorExpired')
    })
  })
})
