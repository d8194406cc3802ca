// Anchoring a compared PSI session on chain (ComputeLedger.commitPsi, R55) through the relayer, exactly
// once: whatever an earlier attempt did before a crash, the chain is asked first, and its refusal of a
// replay (ComputeLedgerPsiAlreadyCommitted) is read as "done by an earlier attempt", never as a failure.
import { computeLedgerAbi } from '../../../contracts/index'
import type { PsiCommitStatus } from '../../../sdk/src/psi/session-client'
import type { Bindings } from '../env'
import { readContracts, rpcBatch } from '../services/chain'
import { addressBook, ConfigError } from '../services/config'
import { ContractRevertError, sendFromRelayer } from '../services/relayer'
import { Interface } from 'ethers'

/** What the chain holds for a session. */
export interface LedgerCommitment {
  transcriptHash: string
  intersectionSize: number
  /** The transaction that committed it, when its event is found. */
  txHash?: string
  blockNumber?: number
}

/** The two chain operations a commit needs; the worker's is `chainLedger(env)`. */
export interface PsiLedger {
  read(sessionId: string): Promise<LedgerCommitment | undefined>
  commit(
    sessionId: string,
    transcriptHash: string,
    intersectionSize: number,
  ): Promise<{ txHash: string; blockNumber: number }>
}

const ledgerInterface = new Interface(computeLedgerAbi)
const ZERO32 = /^0x0{64}$/

/** ComputeLedger through the worker's chain adapter (reads) and relayer (writes). */
export function chainLedger(env: Bindings): PsiLedger {
  return {
    async read(sessionId) {
      const [[c]] = await readContracts(env, [
        { contract: 'ComputeLedger', abi: computeLedgerAbi, fn: 'psiCommitment', args: [sessionId] },
      ])
      if (ZERO32.test(c.transcriptHash)) return undefined
      // The committing transaction, for the session view: PsiCommitted is indexed by session id.
      const book = addressBook(env)
      const [logs] = (await rpcBatch(env, [
        [
          'eth_getLogs',
          [
            {
              address: book.contracts.ComputeLedger,
              fromBlock: '0x' + (book.deployedAtBlock ?? 0).toString(16),
              toBlock: 'latest',
              topics: [ledgerInterface.getEvent('PsiCommitted')!.topicHash, sessionId],
            },
          ],
        ],
      ])) as [Array<{ transactionHash: string; blockNumber: string }>]
      return {
        transcriptHash: String(c.transcriptHash).toLowerCase(),
        intersectionSize: Number(c.intersectionSize),
        txHash: logs[0]?.transactionHash,
        blockNumber: logs[0] ? Number(logs[0].blockNumber) : undefined,
      }
    },
    async commit(sessionId, transcriptHash, intersectionSize) {
      const sent = await sendFromRelayer(env, {
        contract: 'ComputeLedger',
        abi: computeLedgerAbi,
        fn: 'commitPsi',
        args: [sessionId, transcriptHash, BigInt(intersectionSize)],
      })
      return { txHash: sent.txHash, blockNumber: sent.blockNumber }
    },
  }
}

/** A commit attempt that may succeed later (the chain was unreachable, a transaction was lost). */
export class PsiCommitRetry extends Error {
  override name = 'PsiCommitRetry'
}

function adopt(
  found: LedgerCommitment,
  transcriptHash: string,
  intersectionSize: number,
  attempts: number,
): PsiCommitStatus {
  if (found.transcriptHash !== transcriptHash.toLowerCase() || found.intersectionSize !== intersectionSize)
    return {
      status: 'failed',
      attempts,
      error: `the chain already holds a different commitment for this session (${found.transcriptHash}, size ${found.intersectionSize})`,
    }
  return { status: 'committed', attempts, txHash: found.txHash, blockNumber: found.blockNumber }
}

/**
 * One idempotent attempt: adopts a commitment already on chain, else sends one. Returns the new status;
 * throws PsiCommitRetry when the outcome is unknown and a later attempt should ask again.
 */
export async function commitTranscript(
  ledger: PsiLedger,
  c: { sessionId: string; transcriptHash: string; intersectionSize: number; attempts: number },
): Promise<PsiCommitStatus> {
  const attempts = c.attempts + 1
  try {
    const found = await ledger.read(c.sessionId)
    if (found) return adopt(found, c.transcriptHash, c.intersectionSize, attempts)
    try {
      const sent = await ledger.commit(c.sessionId, c.transcriptHash, c.intersectionSize)
      return { status: 'committed', attempts, txHash: sent.txHash, blockNumber: sent.blockNumber }
    } catch (err) {
      // Another attempt (ours, before a crash or concurrently) got there first: the chain has it.
      if (err instanceof ContractRevertError && err.errorName === 'ComputeLedgerPsiAlreadyCommitted') {
        const again = await ledger.read(c.sessionId)
        if (again) return adopt(again, c.transcriptHash, c.intersectionSize, attempts)
        throw new PsiCommitRetry('the chain refused a replay but its commitment is not readable yet')
      }
      throw err
    }
  } catch (err) {
    if (err instanceof PsiCommitRetry) throw err
    // A paused ledger will resume: ask again later.
    if (err instanceof ContractRevertError && err.errorName === 'EnforcedPause')
      throw new PsiCommitRetry('ComputeLedger is paused', { cause: err })
    // Permanent: no chain configured, or the contract refuses for a reason time will not change.
    if (err instanceof ConfigError) return { status: 'failed', attempts, error: err.message }
    if (err instanceof ContractRevertError)
      return { status: 'failed', attempts, error: `ComputeLedger refused: ${err.message}` }
    // The session view is public and an RPC error can quote the RPC URL (which may carry an API key):
    // say what kind of failure it was, not its text.
    throw new PsiCommitRetry(
      `attempt ${attempts}: the chain could not be reached or did not answer (${(err as Error).name}); retrying`,
      { cause: err },
    )
  }
}

/** Seconds before retry `attempts` + 1: 2, 4, 8 … capped at 5 minutes. */
export const commitBackoffS = (attempts: number) => Math.min(300, 2 ** Math.max(1, attempts))
