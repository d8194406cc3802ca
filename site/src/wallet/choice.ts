// Which wallet the person chose, remembered across pages (localStorage holds the choice and the address,
// never a key), so a page can show "connected as …" without loading the wallet code.

export type WalletChoice = { kind: 'dev'; index: number } | { kind: 'injected' }
export type SavedChoice = WalletChoice & { address: string }

const KEY = 'stillflow:wallet'

export function savedChoice(): SavedChoice | null {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? 'null') as SavedChoice | null
    if (!v || typeof v.address !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(v.address)) return null
    if (v.kind === 'dev' && Number.isSafeInteger(v.index)) return { kind: 'dev', index: v.index, address: v.address }
    if (v.kind === 'injected') return { kind: 'injected', address: v.address }
    return null
  } catch {
    // Storage disabled or a value from another version: behave as if nothing was chosen.
    return null
  }
}

export function saveChoice(choice: SavedChoice): void {
  localStorage.setItem(KEY, JSON.stringify(choice))
}

export function clearChoice(): void {
  localStorage.removeItem(KEY)
}
