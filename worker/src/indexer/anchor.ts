// Owns the periodic anchoring of the ledger root in LedgerAnchor (R24 "ledger", R38–R39): every
// `ANCHOR_EVERY_BLOCKS` indexed blocks the relayer records the export's Merkle root on chain, so a later
// rewrite of the export (or of D1) is detectable by anyone with the chain.
import { JsonRpcProvider, Wallet } from 'ethers'
import { rpcBatch } from '../services/chain'
import { addressBook, ConfigError, requireSetting } from '../services/config'
import { contractInterface } from './decode'
import { ledgerSummary } from './export'
import { indexedChain } from './read'
import { anchorEveryBlocks, type IndexerBindings } from './settings'

export type AnchorResult =
  | { anchored: true; txHash: string; merkleRoot: string; leafCount: number; toBlock: number }
  | { anchored: false; reason: string }

/** Sends an anchor transaction when one is due; never waits for it (the indexer records the event). */
export async function anchorIfDue(env: IndexerBindings): Promise<AnchorResult> {
  const book = addressBook(env)
  const to = book.contracts.LedgerAnchor
  if (!to) return { anchored: false, reason: 'no LedgerAnchor in ADDRESS_BOOK' }
  if (!env.RELAYER_KEY) return { anchored: false, reason: 'RELAYER_KEY is not set' }
  if (!/^0x[0-9a-fA-F]{64}$/.test(env.RELAYER_KEY))
    throw new ConfigError('RELAYER_KEY', 'is not a 32-byte hex private key')
  const { chainId, indexedBlock } = await indexedChain(env)
  const anchor = contractInterface('LedgerAnchor')
  // Ask the chain, not the index: an anchor sent by the previous run may be mined but not indexed yet.
  const [countHex] = (await rpcBatch(env, [
    ['eth_call', [{ to, data: anchor.encodeFunctionData('anchorCount') }, 'latest']],
  ])) as string[]
  const count = Number(anchor.decodeFunctionResult('anchorCount', countHex)[0])
  let lastToBlock = -1
  if (count > 0) {
    const [lastHex] = (await rpcBatch(env, [
      ['eth_call', [{ to, data: anchor.encodeFunctionData('anchorOf', [count]) }, 'latest']],
    ])) as string[]
    lastToBlock = Number(anchor.decodeFunctionResult('anchorOf', lastHex)[0].toBlock)
  }
  if (indexedBlock < 0 || indexedBlock - lastToBlock < anchorEveryBlocks(env)) {
    return { anchored: false, reason: `last anchor covers block ${lastToBlock}; indexed up to ${indexedBlock}` }
  }
  const summary = await ledgerSummary(env.DB, chainId, indexedBlock)
  const provider = new JsonRpcProvider(requireSetting(env, 'CHAIN_RPC_URL'), book.chainId, {
    staticNetwork: true,
    batchMaxCount: 1,
  })
  try {
    const tx = await new Wallet(env.RELAYER_KEY, provider).sendTransaction({
      to,
      data: anchor.encodeFunctionData('anchor', [summary.merkleRoot, summary.leafCount, summary.toBlock]),
    })
    return {
      anchored: true,
      txHash: tx.hash,
      merkleRoot: summary.merkleRoot,
      leafCount: summary.leafCount,
      toBlock: summary.toBlock,
    }
  } finally {
    provider.destroy()
  }
}
