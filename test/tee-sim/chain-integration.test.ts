// The enclave against the real contracts on an in-process hardhat chain: quote registration with the
// SIMULATED vendor root, ingest, mint, licence purchase, a job whose receipt ComputeLedger records
// (spending exactly the receipt's ε and one job), replay refused, and revocation honoured.
process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = 'true'

import hre from 'hardhat'
import { BrowserProvider, Contract, ZeroAddress, keccak256, toUtf8Bytes } from 'ethers'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  computeLedgerAbi,
  dataAssetNftAbi,
  dataMarketAbi,
  deployStillflow,
  enclaveRegistryAbi,
  publishDomain,
  publishTypes,
  type AddressBook,
} from '../../contracts/index'
import { queryHashOf } from '../../tee-sim/src/canonical-json'
import { Enclave } from '../../tee-sim/src/enclave/enclave'
import { ingest } from '../../tee-sim/src/enclave/ingest'
import { runJob } from '../../tee-sim/src/enclave/jobs'
import { JOB_REQUEST_TYPES, jobRequestDomain } from '../../tee-sim/src/eip712'
import { AssetUnavailableError } from '../../tee-sim/src/errors'
import { ethersChainReader } from '../../tee-sim/src/host/ethers-chain-reader'
import { memorySealedStore } from '../../tee-sim/src/host/files'
import { x25519PublicKey } from '../../tee-sim/src/hpke'
import { openResult } from '../../tee-sim/src/key-release'
import { createSimulatedPlatform } from '../../tee-sim/src/platform/simulated-platform'
import { SIMULATED_VENDOR_ROOT_ADDRESS, verifyQuote } from '../../tee-sim/src/quote'
import { bytesToHex } from '../../tee-sim/src/bytes'
import { MEASUREMENT_A, PLATFORM_SECRET, encryptDataset, ingestParams, salesCsv, testRuntime } from './support'

const provider = new BrowserProvider(hre.network.provider as never, undefined, { cacheTimeout: -1 })
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const as = (c: Contract, s: unknown): any => c.connect(s as never)

let book: AddressBook
let enclave: Enclave
let nft: Contract, market: Contract, registry: Contract, ledger: Contract
const signers = async () => Promise.all([0, 1, 2, 3, 4, 5, 6].map((i) => provider.getSigner(i)))

beforeAll(async () => {
  const [deployer, admin, relayer, supervisor, treasury] = await signers()
  book = await deployStillflow(deployer, {
    admin: admin.address,
    relayer: relayer.address,
    supervisor: supervisor.address,
    treasury: treasury.address,
    vendorRoot: SIMULATED_VENDOR_ROOT_ADDRESS,
    platformFeeBps: 250,
    approvedMeasurements: [MEASUREMENT_A],
  })
  nft = new Contract(book.contracts.DataAssetNFT, dataAssetNftAbi, provider)
  market = new Contract(book.contracts.DataMarket, dataMarketAbi, provider)
  registry = new Contract(book.contracts.EnclaveRegistry, enclaveRegistryAbi, provider)
  ledger = new Contract(book.contracts.ComputeLedger, computeLedgerAbi, provider)
  const t = (await provider.getBlock('latest'))!.timestamp
  const reader = ethersChainReader(provider, book)
  enclave = await Enclave.boot({
    platform: createSimulatedPlatform({ platformSecret: PLATFORM_SECRET, measurement: MEASUREMENT_A }),
    store: memorySealedStore(),
    runtime: testRuntime('chain', t * 1000),
    chain: async () => reader,
  })
}, 120_000)

describe('the enclave on the real contracts', () => {
  it('registers, ingests, runs a licensed job whose receipt the ledger records, and honours revocation', async () => {
    const [, , relayer, , , owner, buyer] = await signers()

    // 1. attestation: the registry accepts the SIMULATED vendor quote and approves the measurement
    const nonce = keccak256(toUtf8Bytes('registration nonce'))
    const doc = enclave.attest(nonce)
    const verified = await verifyQuote(doc, {
      expectedNonce: nonce,
      isMeasurementApproved: (m) => registry.isMeasurementApproved(m),
    })
    await (await as(registry, relayer).registerEnclave(doc.quote, doc.vendorSignature)).wait()
    expect((await registry.enclave(verified.signer)).measurement).toBe(MEASUREMENT_A)

    // 2. publish: encrypt, ingest (before mint), mint with the owner's signature
    const d = await encryptDataset(salesCsv(2000), enclave.identity.clusterPublicKey)
    const { chainId } = book
    const ingested = await ingest(enclave, await ingestParams(d, { chainId, contract: book.contracts.DataAssetNFT }), [
      d.ciphertext,
    ])
    expect(ingested.receipt.contentHash).toBe(d.contentHash)
    const publish = {
      owner: owner.address,
      contentHash: d.contentHash,
      metadataDigest: keccak256(toUtf8Bytes('metadata')),
      deadline: 4_000_000_000,
    }
    const types = { Publish: publishTypes.Publish.map((f) => ({ ...f })) }
    const sig = await owner.signTypedData(publishDomain(chainId, book.contracts.DataAssetNFT), types, publish)
    await (
      await as(nft, relayer).mintWithSignature(
        publish.owner,
        publish.contentHash,
        publish.metadataDigest,
        publish.deadline,
        sig,
      )
    ).wait()
    const tokenId = await nft.tokenIdOfContent(d.contentHash)
    expect(tokenId).toBe(1n)

    // 3. licence: an offer with 2.5 ε and 3 jobs, bought by the buyer
    const price = 10n ** 15n
    await (
      await as(market, owner).setOffer(tokenId, {
        price,
        currency: ZeroAddress,
        duration: 86_400,
        maxJobs: 3,
        epsilonBudgetMilli: 2500,
        purposes: 1,
      })
    ).wait()
    const offerId = await market.offerCount(tokenId)
    await (await as(market, buyer).buyLicence(tokenId, offerId, { value: price })).wait()
    const licenceId = await market.licenceCount()

    // 4. a job signed by the buyer, checked by the enclave against the chain itself
    const resultSk = new Uint8Array(32).fill(0x5a)
    const t = (await provider.getBlock('latest'))!.timestamp
    let n = 0
    const job = async (query: string) => {
      const request = {
        licenceId: licenceId.toString(),
        contentHash: d.contentHash,
        queryHash: queryHashOf(query),
        resultPublicKey: bytesToHex(x25519PublicKey(resultSk)),
        nonce: keccak256(toUtf8Bytes(`nonce ${++n}`)) as `0x${string}`,
        deadline: t + 3600,
      }
      const signature = (await buyer.signTypedData(
        jobRequestDomain(chainId, book.contracts.DataMarket),
        { JobRequest: JOB_REQUEST_TYPES.JobRequest.map((f) => ({ ...f })) },
        request,
      )) as `0x${string}`
      return runJob(enclave, { request, signature, query }, async () => [d.ciphertext])
    }
    const out = await job('SELECT region, COUNT(*) FROM data GROUP BY region')
    const result = JSON.parse(new TextDecoder().decode(await openResult(out.sealedResult, resultSk, out.jobId)))
    expect(result.rows.map((r: unknown[]) => r[0])).toEqual(['east', 'north', 'south'])

    // 5. the ledger records the receipt and spends exactly its ε and one job; a replay reverts
    const before = await market.licence(licenceId)
    await (await as(ledger, relayer).recordReceipt(out.receipt.receipt, out.receipt.signature)).wait()
    const after = await market.licence(licenceId)
    expect(before.epsilonLeftMilli - after.epsilonLeftMilli).toBe(BigInt(out.receipt.receipt.epsilonSpentMilli))
    expect(before.jobsLeft - after.jobsLeft).toBe(1n)
    expect(await ledger.isJobRecorded(out.jobId)).toBe(true)
    await expect(as(ledger, relayer).recordReceipt(out.receipt.receipt, out.receipt.signature)).rejects.toThrow()

    // 6. a forged receipt (ε lowered after signing) is refused by the contract
    const second = await job('SELECT COUNT(*) FROM data')
    await expect(
      as(ledger, relayer).recordReceipt({ ...second.receipt.receipt, epsilonSpentMilli: 1 }, second.receipt.signature),
    ).rejects.toThrow()

    // 7. the owner revokes: the enclave refuses the next job and destroys its copy of the key
    await (await as(nft, owner).revoke(tokenId)).wait()
    await expect(job('SELECT COUNT(*) FROM data')).rejects.toThrow(AssetUnavailableError)
    expect(enclave.state.assets[d.contentHash].wrappedKey).toBeNull()
  }, 120_000)
})
