// LedgerAnchor: the relayer appends ledger roots; nobody else can; roots only move forward in blocks.
import { Contract, ContractFactory, ZeroHash } from 'ethers'
import { beforeAll, describe, expect, it } from 'vitest'
import { ledgerAnchorAbi, ledgerAnchorBytecode, ROLES } from '../../contracts/index'
import { as, expectEvent, mined, provider, word } from './fixture'

/** Asserts a revert with LedgerAnchor's custom error `name(args)` (the shared fixture knows only the four core ABIs). */
async function expectRevert(action: Promise<unknown>, name: string, args: unknown[]): Promise<void> {
  const err = await action.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (err === undefined) throw new Error(`expected ${name}, but the call succeeded`)
  const e = err as { data?: string; info?: { error?: { data?: string } } }
  const data = e.data ?? e.info?.error?.data
  const parsed = anchor.interface.parseError(data ?? '0x')
  expect(parsed?.name).toBe(name)
  expect(parsed?.args.toArray().map((v) => (typeof v === 'string' ? v.toLowerCase() : v))).toEqual(
    args.map((v) => (typeof v === 'string' ? v.toLowerCase() : v)),
  )
}

let anchor: Contract
let relayer: Awaited<ReturnType<typeof provider.getSigner>>
let supervisor: typeof relayer
let stranger: typeof relayer

beforeAll(async () => {
  const [deployer, admin, r, s, x] = await Promise.all([0, 1, 2, 3, 8].map((i) => provider.getSigner(i)))
  relayer = r
  supervisor = s
  stranger = x
  const c = await new ContractFactory(ledgerAnchorAbi as never, ledgerAnchorBytecode, deployer).deploy(
    admin.address,
    relayer.address,
    supervisor.address,
  )
  await c.waitForDeployment()
  anchor = new Contract(await c.getAddress(), ledgerAnchorAbi as never, provider)
})

describe('LedgerAnchor.anchor', () => {
  it('appends a root from the relayer and emits RootAnchored', async () => {
    const block = await provider.getBlockNumber()
    const receipt = await mined(as(anchor, relayer).anchor(word('root 1'), 10, block))
    expectEvent(receipt, anchor, 'RootAnchored', [1n, word('root 1'), 10n, BigInt(block), relayer.address])
    expect(await anchor.anchorCount()).toBe(1n)
    const stored = await anchor.anchorOf(1)
    expect([stored.merkleRoot, stored.leafCount, stored.toBlock]).toEqual([word('root 1'), 10n, BigInt(block)])
  })

  it('refuses anyone but the relayer, including the supervisor (R21)', async () => {
    const block = await provider.getBlockNumber()
    for (const s of [stranger, supervisor]) {
      await expectRevert(as(anchor, s).anchor(word('x'), 1, block), 'AccessControlUnauthorizedAccount', [
        s.address,
        ROLES.relayer,
      ])
    }
  })

  it('refuses a zero root, a block not after the previous anchor, and a block not yet final', async () => {
    const last = (await anchor.anchorOf(await anchor.anchorCount())).toBlock as bigint
    await expectRevert(as(anchor, relayer).anchor(ZeroHash, 1, last + 1n), 'LedgerAnchorZeroRoot', [])
    await expectRevert(as(anchor, relayer).anchor(word('r'), 1, last), 'LedgerAnchorNotAfterPrevious', [last, last])
    const next = BigInt((await provider.getBlockNumber()) + 1)
    await expectRevert(as(anchor, relayer).anchor(word('r'), 1, next), 'LedgerAnchorFutureBlock', [next, next])
  })

  it('refuses unknown anchor ids', async () => {
    await expectRevert(anchor.anchorOf(0), 'LedgerAnchorUnknownAnchor', [0n])
    await expectRevert(anchor.anchorOf(99), 'LedgerAnchorUnknownAnchor', [99n])
  })
})
