// The relayer (R21: bookkeeping power only): submits transactions that owners signed and pays their gas.
// It holds no power of its own over assets; the contracts check every owner's signature.
import { Contract, Interface, JsonRpcProvider, Wallet, type TransactionReceipt } from 'ethers'
import { dataAssetNftAbi } from '../../../contracts/index'
import type { Bindings } from '../env'
import { readContracts } from './chain'
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

function relayerWallet(env: Bindings): Wallet {
  const key = env.RELAYER_KEY
  if (!key || !/^0x[0-9a-fA-F]{64}$/.test(key))
    throw new ConfigError('RELAYER_KEY', 'is not set to a 32-byte hex private key')
  const book = addressBook(env)
  const provider = new JsonRpcProvider(requireSetting(env, 'CHAIN_RPC_URL'), book.chainId, {
    staticNetwork: true,
    batchMaxCount: 1,
  })
  return new Wallet(key, provider)
}

/** Decodes a revert into the contract's custom error, if the data names one of the NFT's errors. */
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
