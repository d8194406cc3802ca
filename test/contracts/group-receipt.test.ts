// ComputeLedger.recordGroupReceipt: a job across assets of several owners (R67) is recorded, and every
// licence in it charged, all together or not at all.
import { TypedDataEncoder, Wallet, ZeroHash, verifyTypedData } from 'ethers'
import { beforeEach, describe, expect, it } from 'vitest'
import { groupReceiptTypes, jobReceiptDomain } from '../../contracts/index'
import { typedDataDigest } from '../../tee-sim/src/eip712'
import { bytesToHex } from '../../tee-sim/src/bytes'
import {
  ETH,
  MEASUREMENT,
  as,
  buy,
  defaultTerms,
  deployWorld,
  enclaveKey,
  eventsOf,
  expectEvent,
  expectRevert,
  mined,
  mintAsset,
  offerOn,
  provider,
  registerEnclave,
  word,
  type World,
} from './fixture'

interface Part {
  licenceId: bigint
  contentHash: string
  epsilonSpentMilli: bigint
}
interface GroupReceipt {
  jobId: string
  queryHash: string
  resultHash: string
  measurement: string
  parts: Part[]
}

let w: World
let licenceA: bigint
let licenceB: bigint

beforeEach(async () => {
  w = await deployWorld()
  // Two owners, one asset each; one buyer holds a licence on both.
  await mintAsset(w, w.owner, 'a')
  await mintAsset(w, w.other, 'b')
  await offerOn(w, w.owner, 1n, defaultTerms({ maxJobs: 2, epsilonBudgetMilli: 1_000 }))
  await offerOn(w, w.other, 2n, defaultTerms({ maxJobs: 1, epsilonBudgetMilli: 500 }))
  licenceA = await buy(w, w.buyer, 1n, 1n, ETH)
  licenceB = await buy(w, w.buyer, 2n, 1n, ETH)
  await registerEnclave(w)
})

const group = (over: Partial<GroupReceipt> = {}): GroupReceipt => ({
  jobId: word('group job 1'),
  queryHash: word('SELECT COUNT(*) FROM a JOIN b ON a.id = b.id'),
  resultHash: word('result'),
  measurement: MEASUREMENT,
  parts: [
    { licenceId: licenceA, contentHash: word('content a'), epsilonSpentMilli: 300n },
    { licenceId: licenceB, contentHash: word('content b'), epsilonSpentMilli: 300n },
  ],
  ...over,
})

const sign = (r: GroupReceipt, key: Wallet = enclaveKey) =>
  key.signTypedData(jobReceiptDomain(w.chainId, w.book.contracts.ComputeLedger), groupReceiptTypes, r)

async function record(r: GroupReceipt, key: Wallet = enclaveKey) {
  return as(w.ledger, w.relayer).recordGroupReceipt(r, await sign(r, key))
}

async function left(licenceId: bigint): Promise<[bigint, bigint]> {
  const l = await w.market.licence(licenceId)
  return [l.jobsLeft, l.epsilonLeftMilli]
}

describe('ComputeLedger.recordGroupReceipt', () => {
  it('charges every part its job and ε and records the job once, with one event per part', async () => {
    const r = group()
    const tx = await mined(record(r))
    expect(await left(licenceA)).toEqual([1n, 700n])
    expect(await left(licenceB)).toEqual([0n, 200n])
    expectEvent(tx, w.ledger, 'GroupJobRecorded', [
      r.jobId,
      enclaveKey.address,
      r.queryHash,
      r.resultHash,
      MEASUREMENT,
      2n,
    ])
    expectEvent(tx, w.ledger, 'JobPartRecorded', [r.jobId, licenceA, 0n, word('content a'), 300n])
    expectEvent(tx, w.ledger, 'JobPartRecorded', [r.jobId, licenceB, 1n, word('content b'), 300n])
    expectEvent(tx, w.market, 'LicenceConsumed', [licenceA, r.jobId, 1n, 700n, 300n])
    expectEvent(tx, w.market, 'LicenceConsumed', [licenceB, r.jobId, 0n, 200n, 300n])
    const block = await provider.getBlock(tx.blockNumber)
    expect((await w.ledger.job(r.jobId)).toArray()).toEqual([0n, BigInt(block!.timestamp), 600n])
    expect(await w.ledger.isJobRecorded(r.jobId)).toBe(true)
    await expectRevert(record(r), 'ComputeLedgerJobAlreadyRecorded', [r.jobId])
  })

  it('charges nothing when any one part fails (all or nothing)', async () => {
    // B has 500 milli-ε: the second part overspends, so the first part's charge is undone too.
    const r = group({
      parts: [
        { licenceId: licenceA, contentHash: word('content a'), epsilonSpentMilli: 600n },
        { licenceId: licenceB, contentHash: word('content b'), epsilonSpentMilli: 600n },
      ],
    })
    await expectRevert(record(r), 'DataMarketEpsilonBudgetExceeded', [licenceB, 500n, 600n])
    const wrongAsset = group({
      parts: [
        { licenceId: licenceA, contentHash: word('content a'), epsilonSpentMilli: 1n },
        { licenceId: licenceB, contentHash: word('content a'), epsilonSpentMilli: 1n },
      ],
    })
    await expectRevert(record(wrongAsset), 'ComputeLedgerContentMismatch', [
      licenceB,
      word('content b'),
      word('content a'),
    ])
    await expectRevert(
      record(group({ parts: [group().parts[0], { ...group().parts[1], licenceId: 99n }] })),
      'DataMarketUnknownLicence',
      [99n],
    )
    expect(await left(licenceA)).toEqual([2n, 1_000n])
    expect(await left(licenceB)).toEqual([1n, 500n])
    expect(await w.ledger.isJobRecorded(r.jobId)).toBe(false)
  })

  it('refuses a frozen asset in any part, charging no part', async () => {
    await mined(as(w.nft, w.supervisor).freeze(2n, word('court order')))
    await expectRevert(record(group()), 'DataMarketAssetFrozen', [2n])
    expect(await left(licenceA)).toEqual([2n, 1_000n])
  })

  it('refuses fewer than two or more than eight parts, and a licence named twice', async () => {
    const [a, b] = group().parts
    await expectRevert(record(group({ parts: [a] })), 'ComputeLedgerGroupSize', [1n, 8n])
    await expectRevert(record(group({ parts: Array(9).fill(a) })), 'ComputeLedgerGroupSize', [9n, 8n])
    await expectRevert(record(group({ parts: [a, b, a] })), 'ComputeLedgerDuplicateLicence', [licenceA])
    await expectRevert(record(group({ jobId: ZeroHash })), 'ComputeLedgerZeroJobId', [])
  })

  it('refuses forged, tampered and reordered group receipts', async () => {
    const forger = new Wallet(word('forger'))
    await expectRevert(record(group(), forger), 'ComputeLedgerUnknownEnclave', [forger.address])
    const r = group()
    const sig = await sign(r)
    const domain = jobReceiptDomain(w.chainId, w.book.contracts.ComputeLedger)
    for (const tampered of [
      { ...r, parts: [r.parts[1], r.parts[0]] },
      { ...r, parts: [r.parts[0], { ...r.parts[1], epsilonSpentMilli: 1n }] },
      { ...r, resultHash: word('other result') },
    ]) {
      const recovered = verifyTypedData(domain, groupReceiptTypes, tampered, sig)
      await expectRevert(as(w.ledger, w.relayer).recordGroupReceipt(tampered, sig), 'ComputeLedgerUnknownEnclave', [
        recovered,
      ])
    }
    expect(eventsOf(await mined(as(w.ledger, w.relayer).recordGroupReceipt(r, sig)), w.ledger)).toHaveLength(3)
  })

  it('refuses while paused', async () => {
    await mined(as(w.ledger, w.supervisor).pause())
    await expectRevert(record(group()), 'StillflowRolesEnforcedPause', [])
  })
})

describe('ComputeLedger group receipt EIP-712', () => {
  it('hashes group receipts exactly as ethers and tee-sim do', async () => {
    const r = group()
    const domain = jobReceiptDomain(w.chainId, w.book.contracts.ComputeLedger)
    const expected = TypedDataEncoder.hash(domain, groupReceiptTypes, r)
    expect(await w.ledger.hashGroupReceipt(r)).toBe(expected)
    const ours = typedDataDigest(
      {
        name: 'Stillflow ComputeLedger',
        version: '1',
        chainId: w.chainId,
        verifyingContract: w.book.contracts.ComputeLedger,
      },
      groupReceiptTypes,
      r as never,
    )
    expect(bytesToHex(ours)).toBe(expected)
  })
})
