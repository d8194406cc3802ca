// Gas of Stillflow's hot transactions (mint, buyLicence, recordReceipt) as ratios against a plain
// OpenZeppelin ERC-721 `_safeMint` measured in the same run, on an in-process hardhat chain.
//
// Scenario, the same on both sides: each transaction goes to an account that holds no token yet
// (a new owner publishing, a new buyer), with the id counters already non-zero. The "repeat" numbers
// in `details` are the same transactions for an account that already holds one, for comparison.
process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = 'true'

import hre from 'hardhat'
import {
  BrowserProvider,
  Contract,
  ContractFactory,
  Wallet,
  ZeroAddress,
  keccak256,
  toUtf8Bytes,
  type JsonRpcSigner,
} from 'ethers'
import {
  computeLedgerAbi,
  dataAssetNftAbi,
  dataMarketAbi,
  deployStillflow,
  enclaveQuoteDomain,
  enclaveQuoteTypes,
  enclaveRegistryAbi,
  groupReceiptTypes,
  jobReceiptDomain,
  jobReceiptTypes,
  publishDomain,
  publishTypes,
} from '../contracts/index'
import { testOnly } from '../contracts/generated'
import type { BenchResult } from './lib'

const word = (s: string) => keccak256(toUtf8Bytes(s))
const ROUNDS = 5

export default async function run(): Promise<BenchResult[]> {
  const provider = new BrowserProvider(hre.network.provider as never, undefined, { cacheTimeout: -1 })
  const signers = await Promise.all([0, 1, 2, 3, 4].map((i) => provider.getSigner(i)))
  const [deployer, admin, relayer, supervisor, treasury] = signers
  const vendor = new Wallet(word('bench vendor'))
  const enclave = new Wallet(word('bench enclave'))
  const measurement = word('bench measurement')
  const book = await deployStillflow(deployer, {
    admin: admin.address,
    relayer: relayer.address,
    supervisor: supervisor.address,
    treasury: treasury.address,
    vendorRoot: vendor.address,
    platformFeeBps: 250,
    approvedMeasurements: [measurement],
  })
  const nft = new Contract(book.contracts.DataAssetNFT, dataAssetNftAbi, relayer)
  const market = new Contract(book.contracts.DataMarket, dataMarketAbi, provider)
  const registry = new Contract(book.contracts.EnclaveRegistry, enclaveRegistryAbi, relayer)
  const ledger = new Contract(book.contracts.ComputeLedger, computeLedgerAbi, relayer)
  const plainDeployed = await new ContractFactory(
    testOnly.PlainERC721.abi,
    testOnly.PlainERC721.bytecode,
    deployer,
  ).deploy()
  await plainDeployed.waitForDeployment()
  const plain = new Contract(await plainDeployed.getAddress(), testOnly.PlainERC721.abi, deployer)

  const gasOf = async (tx: Promise<{ wait(): Promise<{ gasUsed: bigint } | null> }>) =>
    Number((await (await tx).wait())!.gasUsed)
  const now = async () => (await provider.getBlock('latest'))!.timestamp
  const fund = async (to: string) => (await deployer.sendTransaction({ to, value: 10n ** 19n })).wait()
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

  // Warm the counters on both sides so neither pays the 0 → 1 write of its id counter.
  await gasOf(plain.mint(new Wallet(word('bench warm-up holder')).address))
  let n = 0
  const mint = async (owner: Wallet) => {
    const msg = {
      owner: owner.address,
      contentHash: word(`content ${n}`),
      metadataDigest: word(`meta ${n}`),
      deadline: (await now()) + 3600,
    }
    n++
    const sig = await owner.signTypedData(publishDomain(book.chainId, book.contracts.DataAssetNFT), publishTypes, msg)
    const gas = await gasOf(nft.mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig))
    return { gas, tokenId: (await nft.tokenIdOfContent(msg.contentHash)) as bigint }
  }
  const firstOwner = new Wallet(word('bench owner 0'))
  const { tokenId } = await mint(firstOwner)

  // The asset everyone buys: one offer, native currency.
  const ownerSigner = firstOwner.connect(provider)
  await fund(ownerSigner.address)
  await (
    await (market.connect(ownerSigner) as Contract).setOffer(tokenId, {
      price: 10n ** 16n,
      currency: ZeroAddress,
      duration: 86_400,
      maxJobs: 1_000,
      epsilonBudgetMilli: 1_000_000,
      purposes: 1,
    })
  ).wait()
  const quoteMsg = {
    measurement,
    signer: enclave.address,
    clusterPublicKey: word('cluster'),
    nonce: word('nonce'),
    issuedAt: await now(),
  }
  await (
    await registry.registerEnclave(
      quoteMsg,
      await vendor.signTypedData(enclaveQuoteDomain, enclaveQuoteTypes, quoteMsg),
    )
  ).wait()
  const buyAs = async (buyer: JsonRpcSigner | Wallet) =>
    gasOf((market.connect(buyer) as Contract).buyLicence(tokenId, 1, { value: 10n ** 16n }))
  const firstBuyer = signers[1] as JsonRpcSigner
  await buyAs(firstBuyer) // warms the licence counter and the owner's and treasury's balances

  let job = 0
  const receiptFor = async (licenceId: bigint) => {
    const r = {
      jobId: word(`job ${job++}`),
      licenceId,
      contentHash: word('content 0'),
      queryHash: word('q'),
      resultHash: word(`r ${job}`),
      epsilonSpentMilli: 100,
      measurement,
    }
    const sig = await enclave.signTypedData(
      jobReceiptDomain(book.chainId, book.contracts.ComputeLedger),
      jobReceiptTypes,
      r,
    )
    return gasOf(ledger.recordReceipt(r, sig))
  }

  // A job across two assets (R67): one group receipt charging two licences in one transaction.
  const groupFor = async (a: bigint, b: bigint) => {
    const part = (licenceId: bigint) => ({ licenceId, contentHash: word('content 0'), epsilonSpentMilli: 100 })
    const r = {
      jobId: word(`job ${job++}`),
      queryHash: word('q'),
      resultHash: word(`r ${job}`),
      measurement,
      parts: [part(a), part(b)],
    }
    const sig = await enclave.signTypedData(
      jobReceiptDomain(book.chainId, book.contracts.ComputeLedger),
      groupReceiptTypes,
      r,
    )
    return gasOf(ledger.recordGroupReceipt(r, sig))
  }

  const base = { fresh: [] as number[], repeat: [] as number[] }
  const groupGas: number[] = []
  const mintGas = { fresh: [] as number[], repeat: [] as number[] }
  const buyGas = { fresh: [] as number[], repeat: [] as number[] }
  const receiptGas = { first: [] as number[], later: [] as number[] }
  for (let i = 0; i < ROUNDS; i++) {
    const holder = new Wallet(word(`bench holder ${i}`))
    base.fresh.push(await gasOf(plain.mint(holder.address)))
    base.repeat.push(await gasOf(plain.mint(holder.address)))
    const owner = new Wallet(word(`bench owner ${i + 1}`))
    mintGas.fresh.push((await mint(owner)).gas)
    mintGas.repeat.push((await mint(owner)).gas)
    const buyer = new Wallet(word(`bench buyer ${i}`)).connect(provider)
    await fund(buyer.address)
    buyGas.fresh.push(await buyAs(buyer))
    buyGas.repeat.push(await buyAs(buyer))
    const licenceId = (await market.licenceCount()) as bigint
    receiptGas.first.push(await receiptFor(licenceId))
    receiptGas.later.push(await receiptFor(licenceId))
    // The buyer's two licences: the first never charged, the second charged twice (like first + later).
    groupGas.push(await groupFor(licenceId - 1n, licenceId))
  }

  const b = median(base.fresh)
  const details = (subject: { [k: string]: number[] }, extra: Record<string, number> = {}) => ({
    baselineSafeMintFresh: b,
    baselineSafeMintRepeat: median(base.repeat),
    ...Object.fromEntries(Object.entries(subject).map(([k, v]) => [k, median(v)])),
    ...extra,
  })
  const result = (
    name: string,
    subjectLabel: string,
    gas: number,
    target: number | undefined,
    d: Record<string, number | string>,
  ): BenchResult => ({
    name,
    baseline: `OZ ERC-721 _safeMint to a new holder (${b} gas)`,
    subject: `${subjectLabel} (${gas} gas)`,
    ratio: gas / b,
    ratioMeaning: 'gas',
    target: target === undefined ? 'report only' : `≤ ${target}×`,
    pass: target === undefined ? true : gas / b <= target,
    details: d,
  })
  const mintFresh = median(mintGas.fresh)
  const buyFresh = median(buyGas.fresh)
  const receiptFirst = median(receiptGas.first)
  return [
    result(
      'contracts: DataAssetNFT.mintWithSignature',
      'mint to a new owner',
      mintFresh,
      1.8,
      details(mintGas, {
        repeatRatioVsRepeatBaseline: Number((median(mintGas.repeat) / median(base.repeat)).toFixed(3)),
      }),
    ),
    result('contracts: DataMarket.buyLicence (native)', 'buy by a new buyer', buyFresh, undefined, details(buyGas)),
    result(
      'contracts: ComputeLedger.recordReceipt',
      'first receipt of a licence',
      receiptFirst,
      1.5,
      details(receiptGas, { ratioVsRepeatBaseline: Number((receiptFirst / median(base.repeat)).toFixed(3)) }),
    ),
    {
      name: 'contracts: ComputeLedger.recordGroupReceipt (2 parts) vs two recordReceipt transactions',
      baseline: `recordReceipt first + later (${receiptFirst + median(receiptGas.later)} gas)`,
      subject: `one group receipt over two licences (${median(groupGas)} gas)`,
      ratio: median(groupGas) / (receiptFirst + median(receiptGas.later)),
      ratioMeaning: 'gas',
      target: '≤ 1× (all-or-nothing costs no more than two separate receipts)',
      pass: median(groupGas) <= receiptFirst + median(receiptGas.later),
      details: { group: median(groupGas), first: receiptFirst, later: median(receiptGas.later) },
    },
  ]
}
