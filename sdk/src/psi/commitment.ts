// Reading a PSI session's commitment back from the chain, through an RPC endpoint the party chooses
// (not the operator's word for it), for verifyPsiCommitment (transcript.ts).
import { Contract, JsonRpcProvider } from 'ethers'
import { computeLedgerAbi } from '../../../contracts/index'
import type { PsiCommitmentOnChain } from './transcript'

/** ComputeLedger.psiCommitment(sessionId) on the chain at `rpcUrl`, after checking that chain's id. */
export async function readPsiCommitment(opts: {
  rpcUrl: string
  chainId: number
  ledger: string
  sessionId: string
}): Promise<PsiCommitmentOnChain & { committedAt: number }> {
  const provider = new JsonRpcProvider(opts.rpcUrl, undefined, { staticNetwork: true, batchMaxCount: 1 })
  try {
    // getNetwork, not send: send waits for the provider to start, which retries an unreachable URL forever.
    const chainId = Number((await provider.getNetwork()).chainId)
    if (chainId !== opts.chainId)
      throw new Error(`the session is on chain ${opts.chainId} but ${opts.rpcUrl} is chain ${chainId}`)
    const ledger = new Contract(opts.ledger, computeLedgerAbi, provider)
    const c = (await ledger.psiCommitment(opts.sessionId)) as {
      transcriptHash: string
      intersectionSize: bigint
      committedAt: bigint
    }
    return {
      transcriptHash: c.transcriptHash,
      intersectionSize: Number(c.intersectionSize),
      committedAt: Number(c.committedAt),
    }
  } finally {
    provider.destroy()
  }
}
