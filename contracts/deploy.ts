// Owns deployment: puts the four Stillflow contracts on a chain, wired to each other, and returns the address book.
import { ContractFactory, JsonRpcApiProvider, getAddress, getCreateAddress, type Provider, type Signer } from 'ethers'
import {
  computeLedgerAbi,
  computeLedgerBytecode,
  dataAssetNftAbi,
  dataAssetNftBytecode,
  dataMarketAbi,
  dataMarketBytecode,
  enclaveRegistryAbi,
  enclaveRegistryBytecode,
  ledgerAnchorAbi,
  ledgerAnchorBytecode,
  psiComparatorAbi,
  psiComparatorBytecode,
} from './generated'

/** Where the contracts of one deployment live (R42: an asset's global key is chainId + contract + tokenId). */
export type AddressBook = {
  chainId: number
  contracts: {
    DataAssetNFT: string
    DataMarket: string
    EnclaveRegistry: string
    ComputeLedger: string
    /** Present when deployed with `ledgerAnchor: true`. */
    LedgerAnchor?: string
    /** Present when deployed with `psiComparator: true`. */
    PsiComparator?: string
  }
  deployedAtBlock: number
}

/** Deployment parameters. Relayer and supervisor must differ (R21–R22: the constructors refuse otherwise). */
export type DeployOptions = {
  /** Governance account: grants roles, sets fees and parameters, unpauses. */
  admin: string
  /** The operator's bookkeeping key. */
  relayer: string
  /** The supervisor / auditor key. */
  supervisor: string
  /** Receives the platform fee. */
  treasury: string
  /** The (SIMULATED) TEE vendor root key whose quotes EnclaveRegistry trusts. */
  vendorRoot: string
  /** Platform fee in basis points (≤ 1000). */
  platformFeeBps: number
  /** Enclave measurements (0x-prefixed 32-byte hex) approved at deployment. */
  approvedMeasurements?: string[]
  /** Oldest enclave quote EnclaveRegistry accepts, in seconds. Default 3600. */
  maxQuoteAgeSeconds?: number
  /** Prefix of DataAssetNFT token URIs (token URI = prefix + decimal token id). Default empty. */
  baseTokenURI?: string
  /** Also deploy LedgerAnchor (ledger Merkle roots, anchored by the relayer) as a fifth transaction. Default false. */
  ledgerAnchor?: boolean
  /** Also deploy PsiComparator (on-chain PSI comparator for small sets, R55) as the last transaction. Default false. */
  psiComparator?: boolean
}

/**
 * The account's pending nonce, asked of the node directly when possible: ethers answers an identical
 * request made within its cache window (250 ms) from a cache, which is stale after a fast deploy.
 */
async function pendingNonce(provider: Provider, from: string): Promise<number> {
  if (provider instanceof JsonRpcApiProvider) {
    return Number(await provider.send('eth_getTransactionCount', [from, 'pending']))
  }
  return provider.getTransactionCount(from, 'pending')
}

/** Default maximum age of an enclave quote at registration, in seconds. */
export const DEFAULT_MAX_QUOTE_AGE_SECONDS = 3600

/**
 * Deploys DataAssetNFT, EnclaveRegistry, DataMarket and ComputeLedger from `deployer`, in that order,
 * with explicit nonces and waiting for each receipt, so it works over a JsonRpcProvider as well as
 * in-process. The market is deployed knowing the ledger's future address (CREATE address of the
 * deployer's next nonce) and grants it LEDGER_ROLE in its constructor: four transactions, and the
 * deployer keeps no role.
 * @example
 * const book = await deployStillflow(signer, { admin, relayer, supervisor, treasury, vendorRoot, platformFeeBps: 250 })
 */
export async function deployStillflow(deployer: Signer, opts: DeployOptions): Promise<AddressBook> {
  const provider = deployer.provider
  if (!provider) throw new Error('deployStillflow: the deployer signer has no provider')
  const admin = getAddress(opts.admin)
  const relayer = getAddress(opts.relayer)
  const supervisor = getAddress(opts.supervisor)
  const treasury = getAddress(opts.treasury)
  const vendorRoot = getAddress(opts.vendorRoot)
  if (relayer === supervisor) {
    throw new Error('deployStillflow: relayer and supervisor must be different accounts (R21–R22)')
  }
  if (!Number.isInteger(opts.platformFeeBps) || opts.platformFeeBps < 0 || opts.platformFeeBps > 1000) {
    throw new Error(`deployStillflow: platformFeeBps must be an integer in 0..1000, got ${opts.platformFeeBps}`)
  }
  const measurements = opts.approvedMeasurements ?? []
  for (const m of measurements) {
    if (!/^0x[0-9a-fA-F]{64}$/.test(m)) throw new Error(`deployStillflow: measurement ${m} is not 32-byte hex`)
  }
  const maxQuoteAge = opts.maxQuoteAgeSeconds ?? DEFAULT_MAX_QUOTE_AGE_SECONDS

  const from = await deployer.getAddress()
  const { chainId } = await provider.getNetwork()
  let nonce = await pendingNonce(provider, from)
  let firstBlock = -1

  const deploy = async (name: string, abi: readonly unknown[], bytecode: string, args: unknown[]): Promise<string> => {
    const factory = new ContractFactory(abi as never, bytecode, deployer)
    const expected = getCreateAddress({ from, nonce })
    const contract = await factory.deploy(...args, { nonce: nonce++ })
    const receipt = await contract.deploymentTransaction()?.wait()
    if (!receipt || receipt.status !== 1) throw new Error(`deployStillflow: deploying ${name} failed`)
    if (firstBlock < 0) firstBlock = receipt.blockNumber
    const address = await contract.getAddress()
    if (address !== expected) throw new Error(`deployStillflow: ${name} landed at ${address}, expected ${expected}`)
    return address
  }

  const nft = await deploy('DataAssetNFT', dataAssetNftAbi, dataAssetNftBytecode, [
    admin,
    relayer,
    supervisor,
    opts.baseTokenURI ?? '',
  ])
  const registry = await deploy('EnclaveRegistry', enclaveRegistryAbi, enclaveRegistryBytecode, [
    admin,
    relayer,
    supervisor,
    vendorRoot,
    maxQuoteAge,
    measurements,
  ])
  // The ledger is the transaction after the market's: its address is the CREATE address of nonce + 1.
  const ledgerAddress = getCreateAddress({ from, nonce: nonce + 1 })
  const market = await deploy('DataMarket', dataMarketAbi, dataMarketBytecode, [
    admin,
    relayer,
    supervisor,
    nft,
    ledgerAddress,
    treasury,
    opts.platformFeeBps,
  ])
  const ledger = await deploy('ComputeLedger', computeLedgerAbi, computeLedgerBytecode, [
    admin,
    relayer,
    supervisor,
    market,
    registry,
  ])
  const contracts: AddressBook['contracts'] = {
    DataAssetNFT: nft,
    DataMarket: market,
    EnclaveRegistry: registry,
    ComputeLedger: ledger,
  }
  if (opts.ledgerAnchor) {
    contracts.LedgerAnchor = await deploy('LedgerAnchor', ledgerAnchorAbi, ledgerAnchorBytecode, [
      admin,
      relayer,
      supervisor,
    ])
  }
  if (opts.psiComparator) {
    contracts.PsiComparator = await deploy('PsiComparator', psiComparatorAbi, psiComparatorBytecode, [])
  }
  return { chainId: Number(chainId), contracts, deployedAtBlock: firstBlock }
}
