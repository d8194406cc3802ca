// The site's one wallet (issue 7): any EIP-1193 wallet (window.ethereum), or — only when the worker says
// the chain is a local development chain — the labelled development wallet with the public test keys.
// Loaded lazily, when a person acts: ethers never weighs on a page that is only read.
import { BrowserProvider, HDNodeWallet, JsonRpcProvider, Mnemonic, type Provider, type Signer } from 'ethers'
import { ApiClient } from '../../../sdk/src/index'
import { clearChoice, saveChoice, savedChoice, type WalletChoice } from './choice'

export { DescribedError, explainError } from './errors'
export type { WalletChoice } from './choice'

/** `GET /api/wallet` (worker/src/routes/wallet.ts). */
export interface WalletConfig {
  chainId: number
  contracts: Record<string, string>
  deployedAtBlock: number
  rpcUrl: string | null
  devWallet: { mnemonic: string; accounts: number[]; warning: string } | null
}

export interface ConnectedWallet {
  choice: WalletChoice
  address: string
  signer: Signer
  /** Reads the chain: the wallet's own provider, or the local node for the development wallet. */
  provider: Provider
  config: WalletConfig
}

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>
  on?(event: string, listener: () => void): void
}

export class WalletError extends Error {
  override name = 'WalletError'
}

/** The marketplace API from the browser: same origin as the page. */
export const api = new ApiClient({ apiUrl: `${location.origin}/api` })

let config: Promise<WalletConfig> | undefined
export function walletConfig(): Promise<WalletConfig> {
  config ??= api.request<WalletConfig>('/wallet').catch((err) => {
    config = undefined
    throw err
  })
  return config
}

let current: Promise<ConnectedWallet> | undefined

/** Connects the chosen wallet, remembers the choice for the next page, and tells the page. */
export async function connect(choice: WalletChoice): Promise<ConnectedWallet> {
  current = open(choice)
  try {
    const w = await current
    saveChoice({ ...choice, address: w.address })
    window.dispatchEvent(new CustomEvent('stillflow:wallet', { detail: { address: w.address, choice } }))
    return w
  } catch (err) {
    current = undefined
    throw err
  }
}

/** The connected wallet, reconnecting the one chosen on an earlier page; throws when none was chosen. */
export async function currentWallet(): Promise<ConnectedWallet> {
  if (current) return current
  const saved = savedChoice()
  if (!saved) throw new WalletError('Connect a wallet first (the Wallet panel on this page).')
  return connect(saved)
}

export function disconnect(): void {
  current = undefined
  clearChoice()
  window.dispatchEvent(new CustomEvent('stillflow:wallet', { detail: { address: null } }))
}

async function open(choice: WalletChoice): Promise<ConnectedWallet> {
  const cfg = await walletConfig()
  if (choice.kind === 'dev') {
    // Re-checked here, not only when the panel was drawn: a choice saved against a local chain must not
    // carry over to a marketplace whose worker does not vouch for a development chain.
    if (!cfg.devWallet || !cfg.rpcUrl)
      throw new WalletError('The development wallet exists only on a local development chain; this is not one.')
    if (!cfg.devWallet.accounts.includes(choice.index))
      throw new WalletError(`Development account ${choice.index} is not offered here.`)
    const provider = new JsonRpcProvider(cfg.rpcUrl, cfg.chainId, { staticNetwork: true })
    // Hardhat mines each transaction at once; ethers' default 4 s polling would only add waiting.
    provider.pollingInterval = 250
    const path = `m/44'/60'/0'/0/${choice.index}`
    const signer = HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(cfg.devWallet.mnemonic), path).connect(provider)
    return { choice, address: signer.address, signer, provider, config: cfg }
  }
  const injected = (window as unknown as { ethereum?: Eip1193 }).ethereum
  if (!injected) throw new WalletError('No browser wallet found: install one (any EIP-1193 wallet) and reload.')
  await injected.request({ method: 'eth_requestAccounts' })
  const chainHex = `0x${cfg.chainId.toString(16)}`
  if (Number(await injected.request({ method: 'eth_chainId' })) !== cfg.chainId) {
    try {
      await injected.request({ method: 'wallet_switchEthereumChain', params: [{ chainId: chainHex }] })
    } catch {
      throw new WalletError(`Switch your wallet to chain ${cfg.chainId}: this marketplace runs there.`)
    }
  }
  // Switching account or chain in the wallet invalidates this connection: forget it and tell the page,
  // so nothing is signed by an account the person no longer sees as selected.
  injected.on?.('accountsChanged', disconnect)
  injected.on?.('chainChanged', disconnect)
  const provider = new BrowserProvider(injected, cfg.chainId)
  const signer = await provider.getSigner()
  return { choice, address: await signer.getAddress(), signer, provider, config: cfg }
}
