// Shared set-up for the contract tests: an in-process hardhat chain, a Stillflow deployment with named
// accounts, deterministic keys, EIP-712 signing helpers, and assertions for custom errors and events.
process.env.HARDHAT_DISABLE_TELEMETRY_PROMPT = 'true'

import hre from 'hardhat'
import {
  BrowserProvider,
  Contract,
  ContractFactory,
  Interface,
  Wallet,
  keccak256,
  toUtf8Bytes,
  type JsonRpcSigner,
  type TransactionReceipt,
  type TransactionResponse,
} from 'ethers'
import { expect } from 'vitest'
import {
  computeLedgerAbi,
  dataAssetNftAbi,
  dataMarketAbi,
  deployStillflow,
  enclaveQuoteDomain,
  enclaveQuoteTypes,
  enclaveRegistryAbi,
  jobReceiptDomain,
  jobReceiptTypes,
  publishDomain,
  publishTypes,
  type AddressBook,
  type EnclaveQuote,
  type JobReceipt,
  type OfferTerms,
} from '../../contracts/index'
import { testOnly } from '../../contracts/generated'

// cacheTimeout -1: ethers otherwise answers an identical request made within 250 ms from a cache, and an
// in-process chain moves faster than that (stale nonces, balances and gas estimates).
export const provider = new BrowserProvider(hre.network.provider as never, undefined, { cacheTimeout: -1 })

/** A deterministic 32-byte word from a label, for hashes, ids and measurements. */
export const word = (label: string) => keccak256(toUtf8Bytes(label))

/** Deterministic keys for parties that are not hardhat accounts. */
export const vendorKey = new Wallet(word('stillflow test SIMULATED vendor root'))
export const enclaveKey = new Wallet(word('stillflow test enclave signer'))
export const MEASUREMENT = word('enclave build 1')

export const ETH = 10n ** 18n
export const FEE_BPS = 250

/** Every ABI we deploy, so that errors bubbled from one contract through another still decode. */
const allAbis = [
  dataAssetNftAbi,
  dataMarketAbi,
  enclaveRegistryAbi,
  computeLedgerAbi,
  testOnly.TestERC20.abi,
  testOnly.PlainERC721.abi,
  testOnly.TestReceiver.abi,
  testOnly.TestWallet1271.abi,
]
const seen = new Set<string>()
const fragments: string[] = []
for (const abi of allAbis) {
  for (const f of new Interface(abi as never).fragments) {
    if (f.type !== 'error' && f.type !== 'event') continue
    const sig = f.format('full')
    if (!seen.has(sig)) {
      seen.add(sig)
      fragments.push(sig)
    }
  }
}
/** Errors and events of all Stillflow and test contracts. */
export const allErrorsAndEvents = new Interface(fragments)

export interface World {
  book: AddressBook
  chainId: bigint
  deployer: JsonRpcSigner
  admin: JsonRpcSigner
  relayer: JsonRpcSigner
  supervisor: JsonRpcSigner
  treasury: JsonRpcSigner
  owner: JsonRpcSigner
  buyer: JsonRpcSigner
  other: JsonRpcSigner
  stranger: JsonRpcSigner
  nft: Contract
  market: Contract
  registry: Contract
  ledger: Contract
}

/** Deploys Stillflow with accounts 0..8 as deployer, admin, relayer, supervisor, treasury, owner, buyer, other, stranger. */
export async function deployWorld(): Promise<World> {
  const signers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7, 8].map((i) => provider.getSigner(i)))
  const [deployer, admin, relayer, supervisor, treasury, owner, buyer, other, stranger] = signers
  const book = await deployStillflow(deployer, {
    admin: admin.address,
    relayer: relayer.address,
    supervisor: supervisor.address,
    treasury: treasury.address,
    vendorRoot: vendorKey.address,
    platformFeeBps: FEE_BPS,
    approvedMeasurements: [MEASUREMENT],
  })
  return {
    book,
    chainId: BigInt(book.chainId),
    deployer,
    admin,
    relayer,
    supervisor,
    treasury,
    owner,
    buyer,
    other,
    stranger,
    nft: new Contract(book.contracts.DataAssetNFT, dataAssetNftAbi, provider),
    market: new Contract(book.contracts.DataMarket, dataMarketAbi, provider),
    registry: new Contract(book.contracts.EnclaveRegistry, enclaveRegistryAbi, provider),
    ledger: new Contract(book.contracts.ComputeLedger, computeLedgerAbi, provider),
  }
}

/** `contract` with `signer` attached, typed loosely so generated methods can be called. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const as = (contract: Contract, signer: JsonRpcSigner | Wallet): any => contract.connect(signer)

/** Deploys a test-only contract from generated.ts. */
export async function deployTest(
  name: keyof typeof testOnly,
  signer: JsonRpcSigner,
  args: unknown[] = [],
): Promise<Contract> {
  const { abi, bytecode } = testOnly[name]
  const c = await new ContractFactory(abi as never, bytecode, signer).deploy(...args)
  await c.waitForDeployment()
  return new Contract(await c.getAddress(), abi as never, provider)
}

export async function latestTimestamp(): Promise<number> {
  return (await provider.getBlock('latest'))!.timestamp
}

/** Makes the next block's timestamp `t` (and mines nothing). */
export async function setNextTimestamp(t: number): Promise<void> {
  await provider.send('evm_setNextBlockTimestamp', [t])
}

/** Sends a transaction and returns its receipt (status 1). */
export async function mined(tx: Promise<TransactionResponse>): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait()
  if (!receipt) throw new Error('no receipt')
  return receipt
}

/** Gas fee paid by a receipt, in wei. */
export const feeOf = (r: TransactionReceipt) => r.gasUsed * r.gasPrice

/** Revert data from an ethers error: on `data` when a call or estimate reverts, on `error.data` when a sent transaction does. */
function revertData(err: unknown): string | undefined {
  const e = err as { data?: unknown; error?: { data?: unknown }; info?: { error?: { data?: unknown } } }
  for (const data of [e.data, e.error?.data, e.info?.error?.data]) {
    if (typeof data === 'string' && data.startsWith('0x')) return data
  }
  return undefined
}

/**
 * Asserts that `action` reverts with the custom error `name` and exactly `args` (omit `args` to
 * check only the name).
 */
export async function expectRevert(action: Promise<unknown>, name: string, args?: unknown[]): Promise<void> {
  let err: unknown
  try {
    await action
  } catch (e) {
    err = e
  }
  if (err === undefined) throw new Error(`expected a revert with ${name}, but the call succeeded`)
  const data = revertData(err)
  if (!data) throw new Error(`expected a revert with ${name}, got an error without revert data: ${String(err)}`)
  const parsed = allErrorsAndEvents.parseError(data)
  if (!parsed) throw new Error(`expected ${name}, got undecodable revert data ${data}`)
  expect(parsed.name).toBe(name)
  if (args) expect(normalise(parsed.args.toArray())).toEqual(normalise(args))
}

function normalise(values: unknown[]): unknown[] {
  return values.map((v) => {
    if (typeof v === 'number') return BigInt(v)
    if (typeof v === 'string' && /^0x[0-9a-fA-F]{40}$/.test(v)) return v.toLowerCase()
    if (Array.isArray(v)) return normalise(v)
    if (v && typeof v === 'object' && 'toArray' in v) return normalise((v as { toArray(): unknown[] }).toArray())
    return v
  })
}

/** Events a receipt carries from `contract`, decoded (with the contract's own ABI when given one, since
 * ERC-20 and ERC-721 `Transfer` share a topic but not a layout). */
export function eventsOf(
  receipt: TransactionReceipt,
  contract: Contract | string,
): { name: string; args: unknown[] }[] {
  const address = (typeof contract === 'string' ? contract : (contract.target as string)).toLowerCase()
  const iface = typeof contract === 'string' ? allErrorsAndEvents : contract.interface
  return receipt.logs
    .filter((l) => l.address.toLowerCase() === address)
    .map((l) => {
      const parsed = iface.parseLog(l)
      if (!parsed) throw new Error(`undecodable log from ${address}`)
      return { name: parsed.name, args: parsed.args.toArray() }
    })
}

/** Asserts that `receipt` has exactly the event `name` with `args` from `contract` (and nothing else unless listed). */
export function expectEvent(
  receipt: TransactionReceipt,
  contract: Contract | string,
  name: string,
  args: unknown[],
): void {
  const matching = eventsOf(receipt, contract).filter((e) => e.name === name)
  expect(matching.map((e) => normalise(e.args))).toContainEqual(normalise(args))
}

/** The owner's signature of a Publish message on `nft`. */
export async function signPublish(
  world: World,
  signer: JsonRpcSigner | Wallet,
  msg: { owner: string; contentHash: string; metadataDigest: string; deadline: number | bigint },
): Promise<string> {
  return signer.signTypedData(publishDomain(world.chainId, world.book.contracts.DataAssetNFT), publishTypes, msg)
}

/** Mints an asset for `owner` through the relayer; returns the token id. */
export async function mintAsset(world: World, owner: JsonRpcSigner, label: string): Promise<bigint> {
  const msg = {
    owner: owner.address,
    contentHash: word(`content ${label}`),
    metadataDigest: word(`metadata ${label}`),
    deadline: (await latestTimestamp()) + 3600,
  }
  const sig = await signPublish(world, owner, msg)
  await mined(
    as(world.nft, world.relayer).mintWithSignature(msg.owner, msg.contentHash, msg.metadataDigest, msg.deadline, sig),
  )
  return (await world.nft.tokenIdOfContent(msg.contentHash)) as bigint
}

export const defaultTerms = (over: Partial<OfferTerms> = {}): OfferTerms => ({
  price: ETH,
  currency: '0x0000000000000000000000000000000000000000',
  duration: 86_400,
  maxJobs: 3,
  epsilonBudgetMilli: 2_000,
  purposes: 0b101,
  ...over,
})

/** Puts an offer on `tokenId` from `owner`; returns the offer id. */
export async function offerOn(
  world: World,
  owner: JsonRpcSigner,
  tokenId: bigint,
  terms = defaultTerms(),
): Promise<bigint> {
  await mined(as(world.market, owner).setOffer(tokenId, terms))
  return (await world.market.offerCount(tokenId)) as bigint
}

/** Buys a native-currency licence; returns the licence id. */
export async function buy(
  world: World,
  buyer: JsonRpcSigner,
  tokenId: bigint,
  offerId: bigint,
  value: bigint,
): Promise<bigint> {
  await mined(as(world.market, buyer).buyLicence(tokenId, offerId, { value }))
  return (await world.market.licenceCount()) as bigint
}

/** A vendor quote for `signer` running `measurement`, issued at `issuedAt`, and its signature. */
export async function vendorQuote(
  over: Partial<EnclaveQuote> & { issuedAt: number },
  key: Wallet = vendorKey,
): Promise<{ quote: EnclaveQuote; sig: string }> {
  const quote: EnclaveQuote = {
    measurement: MEASUREMENT,
    signer: enclaveKey.address,
    clusterPublicKey: word('cluster public key'),
    nonce: word(`nonce ${over.issuedAt}`),
    ...over,
  }
  return { quote, sig: await key.signTypedData(enclaveQuoteDomain, enclaveQuoteTypes, quote) }
}

/** Registers `enclaveKey` with a fresh vendor quote. */
export async function registerEnclave(
  world: World,
  key: Wallet = enclaveKey,
  measurement = MEASUREMENT,
): Promise<void> {
  const issuedAt = await latestTimestamp()
  const { quote, sig } = await vendorQuote({
    issuedAt,
    signer: key.address,
    measurement,
    nonce: word(`nonce ${key.address} ${issuedAt}`),
  })
  await mined(as(world.registry, world.relayer).registerEnclave(quote, sig))
}

/** An enclave's signature of a job receipt for `world`'s ledger. */
export async function signReceipt(world: World, receipt: JobReceipt, key: Wallet = enclaveKey): Promise<string> {
  return key.signTypedData(
    jobReceiptDomain(world.chainId, world.book.contracts.ComputeLedger),
    jobReceiptTypes,
    receipt,
  )
}
