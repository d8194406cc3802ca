import { TypedDataEncoder, Wallet, ZeroHash, id, verifyTypedData } from 'ethers'
import { beforeEach, describe, expect, it } from 'vitest'
import { jobReceiptDomain, jobReceiptTypes, type JobReceipt } from '../../contracts/index'
import {
  ETH,
  MEASUREMENT,
  as,
  buy,
  defaultTerms,
  deployWorld,
  enclaveKey,
  expectEvent,
  expectRevert,
  mined,
  mintAsset,
  offerOn,
  provider,
  registerEnclave,
  signReceipt,
  word,
  type World,
} from './fixture'

let w: World
let licenceId: bigint

beforeEach(async () => {
  w = await deployWorld()
  await mintAsset(w, w.owner, 'a')
  await offerOn(w, w.owner, 1n, defaultTerms({ maxJobs: 2, epsilonBudgetMilli: 1_000, duration: 1_000 }))
  licenceId = await buy(w, w.buyer, 1n, 1n, ETH)
  await registerEnclave(w)
})

const receipt = (over: Partial<JobReceipt> = {}): JobReceipt => ({
  jobId: word('job 1'),
  licenceId: 1n,
  contentHash: word('content a'),
  queryHash: word('SELECT COUNT(*) FROM t'),
  resultHash: word('result 1'),
  epsilonSpentMilli: 300n,
  measurement: MEASUREMENT,
  ...over,
})

async function record(r: JobReceipt, key: Wallet = enclaveKey, from = w.relayer) {
  return as(w.ledger, from).recordReceipt(r, await signReceipt(w, r, key))
}

describe('ComputeLedger.recordReceipt', () => {
  it('records a receipt signed by a registered enclave and spends one job and the ε (R58)', async () => {
    const r = receipt()
    const tx = await mined(record(r))
    expectEvent(tx, w.ledger, 'JobRecorded', [
      r.jobId,
      1n,
      enclaveKey.address,
      r.contentHash,
      r.queryHash,
      r.resultHash,
      300n,
      MEASUREMENT,
    ])
    expectEvent(tx, w.market, 'LicenceConsumed', [1n, r.jobId, 1n, 700n, 300n])
    const l = await w.market.licence(licenceId)
    expect([l.jobsLeft, l.epsilonLeftMilli]).toEqual([1n, 700n])
    const block = await provider.getBlock(tx.blockNumber)
    expect((await w.ledger.job(r.jobId)).toArray()).toEqual([1n, BigInt(block!.timestamp), 300n])
    expect(await w.ledger.isJobRecorded(r.jobId)).toBe(true)
    expect(await w.ledger.isJobRecorded(word('job 2'))).toBe(false)
  })

  it('accepts a receipt from anyone: the enclave signature is the authority', async () => {
    await mined(record(receipt(), enclaveKey, w.stranger))
    expect(await w.ledger.isJobRecorded(word('job 1'))).toBe(true)
  })

  it('spends the last job and the whole budget, then refuses the next job', async () => {
    await mined(record(receipt({ epsilonSpentMilli: 400n })))
    await mined(record(receipt({ jobId: word('job 2'), epsilonSpentMilli: 600n })))
    expect((await w.market.licence(licenceId)).toArray().slice(1, 3)).toEqual([0n, 0n])
    expect(await w.market.isLicenceLive(licenceId)).toBe(false)
    await expectRevert(
      record(receipt({ jobId: word('job 3'), epsilonSpentMilli: 0n })),
      'DataMarketJobQuotaExhausted',
      [1n],
    )
  })

  it('refuses a replayed receipt', async () => {
    await mined(record(receipt()))
    await expectRevert(record(receipt()), 'ComputeLedgerJobAlreadyRecorded', [word('job 1')])
  })

  it('refuses a zero job id and a malformed signature', async () => {
    await expectRevert(record(receipt({ jobId: ZeroHash })), 'ComputeLedgerZeroJobId', [])
    await expectRevert(as(w.ledger, w.relayer).recordReceipt(receipt(), '0x1234'), 'ComputeLedgerInvalidSignature', [])
  })

  it('refuses forged and tampered receipts', async () => {
    const forger = new Wallet(word('forger'))
    await expectRevert(record(receipt(), forger), 'ComputeLedgerUnknownEnclave', [forger.address])
    const r = receipt()
    const sig = await signReceipt(w, r)
    const tampered = { ...r, epsilonSpentMilli: 1n }
    const recovered = verifyTypedData(
      jobReceiptDomain(w.chainId, w.book.contracts.ComputeLedger),
      jobReceiptTypes,
      tampered,
      sig,
    )
    await expectRevert(as(w.ledger, w.relayer).recordReceipt(tampered, sig), 'ComputeLedgerUnknownEnclave', [recovered])
    const otherChain = await enclaveKey.signTypedData(
      jobReceiptDomain(1n, w.book.contracts.ComputeLedger),
      jobReceiptTypes,
      r,
    )
    const recoveredOther = verifyTypedData(
      jobReceiptDomain(w.chainId, w.book.contracts.ComputeLedger),
      jobReceiptTypes,
      r,
      otherChain,
    )
    await expectRevert(as(w.ledger, w.relayer).recordReceipt(r, otherChain), 'ComputeLedgerUnknownEnclave', [
      recoveredOther,
    ])
  })

  it('refuses a receipt naming another measurement than the enclave’s, or a retired one', async () => {
    const other = word('enclave build 2')
    await expectRevert(record(receipt({ measurement: other })), 'ComputeLedgerMeasurementMismatch', [
      enclaveKey.address,
      MEASUREMENT,
      other,
    ])
    await mined(as(w.registry, w.supervisor).retireMeasurement(MEASUREMENT))
    await expectRevert(record(receipt()), 'ComputeLedgerMeasurementNotApproved', [MEASUREMENT])
  })

  it('refuses receipts of a deregistered enclave', async () => {
    await mined(as(w.registry, w.supervisor).deregisterEnclave(enclaveKey.address))
    await expectRevert(record(receipt()), 'ComputeLedgerUnknownEnclave', [enclaveKey.address])
  })

  it('refuses an unknown or expired licence and an ε overspend', async () => {
    await expectRevert(record(receipt({ licenceId: 9n })), 'DataMarketUnknownLicence', [9n])
    await expectRevert(record(receipt({ epsilonSpentMilli: 1_001n })), 'DataMarketEpsilonBudgetExceeded', [
      1n,
      1_000n,
      1_001n,
    ])
    const { expiresAt } = await w.market.licence(licenceId)
    await provider.send('evm_setNextBlockTimestamp', [Number(expiresAt)])
    await provider.send('evm_mine', [])
    await expectRevert(record(receipt()), 'DataMarketLicenceExpired', [1n, expiresAt])
  })

  it('refuses jobs on revoked or frozen assets', async () => {
    await mined(as(w.nft, w.supervisor).freeze(1, word('r')))
    await expectRevert(record(receipt()), 'DataMarketAssetFrozen', [1n])
    await mined(as(w.nft, w.supervisor).unfreeze(1))
    await mined(as(w.nft, w.owner).revoke(1))
    await expectRevert(record(receipt()), 'DataMarketAssetRevoked', [1n])
  })

  it('refuses a receipt over another asset than the licence’s, and spends nothing', async () => {
    await expectRevert(record(receipt({ contentHash: word('content b') })), 'ComputeLedgerContentMismatch', [
      1n,
      word('content a'),
      word('content b'),
    ])
    expect((await w.market.licence(licenceId)).jobsLeft).toBe(2n)
  })

  it('refuses receipts while paused', async () => {
    await mined(as(w.ledger, w.supervisor).pause())
    await expectRevert(record(receipt()), 'StillflowRolesEnforcedPause', [])
  })
})

describe('ComputeLedger EIP-712', () => {
  it('hashes receipts exactly as the published TypeScript types do', async () => {
    const encoded = TypedDataEncoder.from(jobReceiptTypes).encodeType('JobReceipt')
    expect(encoded).toBe(
      'JobReceipt(bytes32 jobId,uint256 licenceId,bytes32 contentHash,bytes32 queryHash,bytes32 resultHash,uint64 epsilonSpentMilli,bytes32 measurement)',
    )
    expect(await w.ledger.JOB_RECEIPT_TYPEHASH()).toBe(id(encoded))
    const r = receipt()
    expect(await w.ledger.hashReceipt(r)).toBe(
      TypedDataEncoder.hash(jobReceiptDomain(w.chainId, w.book.contracts.ComputeLedger), jobReceiptTypes, r),
    )
    const d = await w.ledger.eip712Domain()
    expect([d[1], d[2], d[3], d[4]]).toEqual([
      'Stillflow ComputeLedger',
      '1',
      w.chainId,
      w.book.contracts.ComputeLedger,
    ])
    expect(await w.ledger.market()).toBe(w.book.contracts.DataMarket)
    expect(await w.ledger.registry()).toBe(w.book.contracts.EnclaveRegistry)
  })
})

describe('ComputeLedger.commitPsi', () => {
  it('lets the relayer anchor a PSI transcript once', async () => {
    const r = await mined(as(w.ledger, w.relayer).commitPsi(word('session'), word('transcript'), 42))
    expectEvent(r, w.ledger, 'PsiCommitted', [word('session'), word('transcript'), 42n])
    const block = await provider.getBlock(r.blockNumber)
    expect((await w.ledger.psiCommitment(word('session'))).toArray()).toEqual([
      word('transcript'),
      42n,
      BigInt(block!.timestamp),
    ])
    await expectRevert(
      as(w.ledger, w.relayer).commitPsi(word('session'), word('t2'), 1),
      'ComputeLedgerPsiAlreadyCommitted',
      [word('session')],
    )
  })

  it('refuses zero values, non-relayers and a pause', async () => {
    await expectRevert(as(w.ledger, w.relayer).commitPsi(ZeroHash, word('t'), 1), 'ComputeLedgerZeroPsiCommitment', [])
    await expectRevert(as(w.ledger, w.relayer).commitPsi(word('s'), ZeroHash, 1), 'ComputeLedgerZeroPsiCommitment', [])
    await expectRevert(
      as(w.ledger, w.supervisor).commitPsi(word('s'), word('t'), 1),
      'AccessControlUnauthorizedAccount',
      [w.supervisor.address, id('RELAYER_ROLE')],
    )
    await mined(as(w.ledger, w.admin).pause())
    await expectRevert(as(w.ledger, w.relayer).commitPsi(word('s'), word('t'), 1), 'StillflowRolesEnforcedPause', [])
  })
})
