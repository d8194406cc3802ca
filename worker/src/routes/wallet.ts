// GET /api/wallet — what a browser wallet needs to talk to this marketplace's chain: chain id, contract
// addresses, and, only on a local development chain, the public development mnemonic for the labelled
// development wallet (issue 7). A deployment never answers with keys: three independent checks must
// all hold — chain id 31337, a loopback RPC URL, and a chain that calls itself a Hardhat node.
import { Hono } from 'hono'
import type { AppEnv, Bindings } from '../env'
import { rpcBatch } from '../services/chain'
import { addressBook } from '../services/config'

/** Hardhat's public development mnemonic: funded accounts that exist only on local chains. */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk'
/** Accounts 0–3 run the marketplace (admin, relayer, supervisor, treasury); people use 4 and up. */
const DEV_ACCOUNTS = [4, 5, 6, 7, 8, 9]
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

async function isLocalDevChain(env: Bindings, chainId: number): Promise<boolean> {
  if (chainId !== 31337 || !env.CHAIN_RPC_URL) return false
  if (!LOOPBACK.has(new URL(env.CHAIN_RPC_URL).hostname)) return false
  // Fails closed: a chain that cannot be asked is not vouched for.
  const client = await rpcBatch(env, [['web3_clientVersion', []]]).then(
    ([v]) => v,
    () => null,
  )
  return typeof client === 'string' && /^HardhatNetwork\//.test(client)
}

export const wallet = new Hono<AppEnv>().get('/', async (c) => {
  const book = addressBook(c.env)
  const dev = await isLocalDevChain(c.env, book.chainId)
  c.header('cache-control', 'no-store')
  return c.json({
    chainId: book.chainId,
    contracts: book.contracts,
    deployedAtBlock: book.deployedAtBlock,
    // The browser reads the chain itself (its own check of the enclave, licences) only where the RPC is
    // the local node; elsewhere it uses the wallet's own provider.
    rpcUrl: dev ? c.env.CHAIN_RPC_URL : null,
    devWallet: dev
      ? {
          mnemonic: DEV_MNEMONIC,
          accounts: DEV_ACCOUNTS,
          warning: 'These are public test keys that anyone can use: local development chain only.',
        }
      : null,
  })
})
