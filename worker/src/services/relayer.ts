// The relayer (R21: bookkeeping power only): submits transactions that owners signed and pays their gas.
// It holds no power of its own over assets; the contracts check every owner's signature.
import { Contract, Interface, JsonRpcProvider, Wallet, type InterfaceAbi, type TransactionReceipt } from 'ethers'
import { computeLedgerAbi, dataAssetNftAbi, dataMarketAbi } from '../../../contracts/index'
import type { Bindings } from '../env'
import { nudgeIndexer } from '../indexer'
import { readContracts, rpcBatch } from './chain'
import { addressBook, ConfigError, requireSetting } from './config'

const nftInterface = new Interface(dataAssetNftAbi)

/** A contract refused the transaction with a custom error (decoded from the ABI). */
export class ContractRevertError extends Error {
  override name = 'ContractRevertError'
  constructor(
    readonly errorName: string,
    readonly args: unknown[],
  ) {
    super(`${errorName}(${args.map(String).join(', ')})`)
  }
}

/**
 * How long a relayer call waits for its transaction to be mined. A longer wait ends the attempt as a
 * transient failure (the transaction may still land; a retry finds it recorded or sends again, and the
 * contract refuses a second recording), so one stuck transaction cannot hold the job queue.
 */
export const MINING_TIMEOUT_MS = 60_000

function relayerKey(env: Bindings): string {
  const key = env.RELAYER_KEY
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new ConfigError('RELAYER_KEY', 'is not set to a 32-byte hex private key')
  return key
}

function relayerWallet(env: Bindings): Wallet {
  const key = relayerKey(env)
  const book = addressBook(env)
  const provider = new JsonRpcProvider(requireSetting(env, 'CHAIN_RPC_URL'), book.chainId, {
    staticNetwork: true,
    batchMaxCount: 1,
  })
  return new Wallet(key, provider)
}

/** Decodes a revert into the contract's custom error, if the data names one of `iface`'s errors. */
function decodeRevert(err: unknown, iface: Interface): never {
  const data =
    (err as { data?: string; info?: { error?: { data?: string } } }).data ??
    (err as { info?: { error?: { data?: string } } }).info?.error?.data
  if (typeof data === 'string' && data.length >= 10) {
    const parsed = iface.parseError(data)
    if (parsed) throw new ContractRevertError(parsed.name, [...parsed.args])
  }
  throw err
}

export interface MintRequest {
  owner: string
  contentHash: string
  metadataDigest: string
  deadline: number
  signature: string
}

/** Simulates, then sends `mintWithSignature` and waits for it; returns the token id and transaction hash. */
export async function mintWithSignature(
  env: Bindings,
  req: MintRequest,
): Promise<{ tokenId: string; txHash: string; blockNumber: number }> {
  const wallet = relayerWallet(env)
  const nft = new Contract(addressBook(env).contracts.DataAssetNFT, dataAssetNftAbi, wallet)
  const args = [req.owner, req.contentHash, req.metadataDigest, req.deadline, req.signature] as const
  try {
    // A dry run first: a refusal costs no gas and comes back as the contract's custom error.
    await nft.mintWithSignature.staticCall(...args).catch((e: unknown) => decodeRevert(e, nftInterface))
    const tx = await nft.mintWithSignature(...args)
    const receipt = (await tx.wait()) as TransactionReceipt
    nudgeIndexer(env) // the mint shows as indexed without waiting for the cron (issue 8)
    for (const log of receipt.logs) {
      const parsed = nftInterface.parseLog(log)
      if (parsed?.name === 'AssetMinted')
        return { tokenId: parsed.args.tokenId.toString(), txHash: receipt.hash, blockNumber: receipt.blockNumber }
    }
    throw new Error(`mint transaction ${receipt.hash} has no AssetMinted event`)
  } catch (err) {
    if (err instanceof ContractRevertError) throw err
    return decodeRevert(err, nftInterface)
  } finally {
    wallet.provider?.destroy()
  }
}

/** The token minted for a content hash, or undefined. */
export async function tokenOfContent(env: Bindings, contentHash: string): Promise<string | undefined> {
  const [[id]] = await readContracts(env, [
    { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'tokenIdOfContent', args: [contentHash] },
  ])
  return (id as bigint) === 0n ? undefined : (id as bigint).toString()
}

/** Custom errors of several contracts in one Interface (a call may revert inside another contract). */
function errorsOf(...abis: InterfaceAbi[]): Interface {
  const errors = abis.flatMap((abi) => (abi as ReadonlyArray<{ type?: string }>).filter((f) => f.type === 'error'))
  return new Interface(errors as InterfaceAbi)
}

export interface SentTransaction {
  txHash: string
  blockNumber: number
  receipt: TransactionReceipt
}

/**
 * Simulates, then sends a call to a contract in the address book from the relayer and waits for it. A
 * refusal comes back as ContractRevertError, decoded with the errors of `errorAbis` (default: the callee's).
 */
export async function sendFromRelayer(
  env: Bindings,
  call: { contract: string; abi: InterfaceAbi; fn: string; args: unknown[]; errorAbis?: InterfaceAbi[] },
): Promise<SentTransaction> {
  const to = addressBook(env).contracts[call.contract]
  if (!to) throw new ConfigError('ADDRESS_BOOK', `has no ${call.contract}`)
  const errors = errorsOf(call.abi, ...(call.errorAbis ?? []))
  const wallet = relayerWallet(env)
  const contract = new Contract(to, call.abi, wallet)
  try {
    // A dry run first: a refusal costs no gas and comes back as the contract's custom error.
    await contract[call.fn].staticCall(...call.args).catch((e: unknown) => decodeRevert(e, errors))
    const tx = await contract[call.fn](...call.args)
    const receipt = (await tx.wait(1, MINING_TIMEOUT_MS)) as TransactionReceipt
    nudgeIndexer(env) // its events are indexed without waiting for the cron (issue 8)
    return { txHash: receipt.hash, blockNumber: receipt.blockNumber, receipt }
  } catch (err) {
    if (err instanceof ContractRevertError) throw err
    return decodeRevert(err, errors)
  } finally {
    wallet.provider?.destroy()
  }
}

/** The enclave-signed receipt as `ComputeLedger.recordReceipt` takes it (tee-sim's SignedReceipt). */
export interface ReceiptToRecord {
  receipt: {
    jobId: string
    licenceId: string
    contentHash: string
    queryHash: string
    resultHash: string
    epsilonSpentMilli: number
    measurement: string
  }
  signature: string
}

/**
 * Records a job receipt on chain. The ledger records a job id once; a receipt someone else (or an earlier
 * attempt of ours whose answer was lost) already recorded comes back as `ComputeLedgerJobAlreadyRecorded`,
 * which callers treat as done. DataMarket's licence errors surface through the ledger and are decoded too.
 */
export function recordReceipt(env: Bindings, signed: ReceiptToRecord): Promise<SentTransaction> {
  const r = signed.receipt
  const receipt = [
    r.jobId,
    BigInt(r.licenceId),
    r.contentHash,
    r.queryHash,
    r.resultHash,
    BigInt(r.epsilonSpentMilli),
    r.measurement,
  ]
  return sendFromRelayer(env, {
    contract: 'ComputeLedger',
    abi: computeLedgerAbi,
    fn: 'recordReceipt',
    args: [receipt, signed.signature],
    errorAbis: [dataMarketAbi],
  })
}

/**
 * Whether the relayer has sent transactions the chain has not mined yet (its pending nonce is ahead of
 * its mined one). One of them may be a job's recording that lands later: until they are mined or
 * dropped, such a job is neither paid nor unpaid.
 */
export async function relayerHasPendingTransactions(env: Bindings): Promise<boolean> {
  const address = new Wallet(relayerKey(env)).address
  const [pending, mined] = (await rpcBatch(env, [
    ['eth_getTransactionCount', [address, 'pending']],
    ['eth_getTransactionCount', [address, 'latest']],
  ])) as string[]
  return BigInt(pending) > BigInt(mined)
}
