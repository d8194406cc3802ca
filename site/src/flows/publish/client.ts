// The publish wizard's behaviour (issue 7; DESIGN §3 Publish; R1, R7, R13): read the form, encrypt and
// upload in a Web Worker with a progress bar, ask the wallet for the one Publish signature, set the offer
// from the owner's wallet, then watch the asset go from pending to indexed.
import type { PrivacyPolicy } from '../../../../tee-sim/src/index'
import { buildSetOffer, sendBuilt, trustEnclave, type DeclarationInput } from '../../../../sdk/src/index'
import { api, currentWallet, DescribedError, explainError } from '../../wallet/index'
import type { FromWorker, StartMessage, ToWorker } from './protocol'

const PHASES: Record<string, string> = {
  attesting: 'Checking the enclave’s attestation against the chain',
  hashing: 'Encrypting and hashing on this device',
  signing: 'Waiting for your signature',
  uploading: 'Encrypting again and uploading the ciphertext',
  done: 'Uploaded; the enclave ingested it and the asset is minted',
}

export interface PublishForm {
  file: File
  title: string
  description: string
  tags: string[]
  policy: PrivacyPolicy
  lawfulBasis: DeclarationInput['lawfulBasis']
  offer: { priceWei: bigint; durationSeconds: number; maxJobs: number; epsilonBudgetMilli: number } | null
}

export interface PublishView {
  phase(text: string): void
  progress(fraction: number | null): void
  step(name: 'uploaded' | 'publication' | 'minted' | 'offer' | 'indexed', text: string, href?: string): void
}

/** A mistake in the wizard's form, in words that name the field as its label does. */
export class FormError extends Error {
  override name = 'FormError'
  /** The form control's name, so the page can point at it. */
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message)
  }
}

const MAX_UINT32 = 2 ** 32 - 1

/**
 * Reads and checks the whole form before anything is encrypted, uploaded or minted; a mistake throws a
 * FormError naming the field by its label. The offer is checked here too: an offer the contract or the
 * enclave would refuse must not leave a minted asset without one.
 */
export function readForm(form: HTMLFormElement): PublishForm {
  const v = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? ''
  const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0]
  if (!file) throw new FormError('Choose a CSV or JSON Lines file to publish.', 'file')
  if (file.size === 0) throw new FormError('The file is empty.', 'file')
  const title = v('title')
  if (!title) throw new FormError('Title is required.', 'title')
  /** A number typed in a field: `min`/`max` inclusive; `whole` when the field counts things. */
  const num = (name: string, label: string, min: number, opts: { max?: number; whole?: boolean } = {}) => {
    const raw = v(name)
    const n = Number(raw)
    if (raw === '' || !Number.isFinite(n)) throw new FormError(`${label} must be a number.`, name)
    if (opts.whole && !Number.isInteger(n)) throw new FormError(`${label} must be a whole number.`, name)
    if (n < min) throw new FormError(`${label} must be ${min} or more.`, name)
    if (opts.max !== undefined && n > opts.max) throw new FormError(`${label} must be ${opts.max} or less.`, name)
    return n
  }
  /** ε in thousandths, as the policy and the offer hold it. */
  const milli = (name: string, label: string, max?: number) => {
    const n = num(name, label, 0.001, { max })
    if (Math.abs(n * 1000 - Math.round(n * 1000)) > 1e-6)
      throw new FormError(`${label} can have at most 3 decimals.`, name)
    return Math.round(n * 1000)
  }
  const mode = v('mode') === 'aggregates-only' ? 'aggregates-only' : 'dp'
  const maxGroups = num('maxGroups', 'Most groups one query may return', 1, { whole: true })
  const policy: PrivacyPolicy =
    mode === 'dp'
      ? // tee-sim/src/policy.ts: epsilonPerQueryMilli is an integer in 1..100000.
        { mode, epsilonPerQueryMilli: milli('epsilon', 'ε spent per query', 100), maxGroups }
      : {
          mode,
          minGroupSize: num('minGroupSize', 'Smallest group released', 2, { whole: true, max: 1_000_000 }),
          maxGroups,
        }
  const price = v('price')
  let offer: PublishForm['offer'] = null
  if (price !== '') {
    const priceWei = parsePrice(price)
    const durationDays = num('durationDays', 'Licence lasts, days', 1)
    const maxJobs = num('maxJobs', 'Jobs per licence', 1, { whole: true, max: MAX_UINT32 })
    const budgetMilli = milli('epsilonBudget', 'ε budget per licence')
    if (policy.mode === 'dp' && policy.epsilonPerQueryMilli! > budgetMilli)
      throw new FormError(
        `ε spent per query (${policy.epsilonPerQueryMilli! / 1000}) is more than the ε budget per licence ` +
          `(${budgetMilli / 1000}): a buyer could never run a single query. Lower ε per query or raise the budget.`,
        'epsilonBudget',
      )
    offer = { priceWei, durationSeconds: Math.round(durationDays * 86_400), maxJobs, epsilonBudgetMilli: budgetMilli }
  }
  return {
    file,
    title,
    description: v('description'),
    tags: v('tags')
      .split(',')
      .map((t) => t.trim().toLowerCase().normalize('NFC'))
      .filter(Boolean),
    policy,
    lawfulBasis: {
      basis: v('basis'),
      statement: v('statement'),
      personalData: (form.elements.namedItem('personalData') as HTMLInputElement).checked,
    },
    offer,
  }
}

/** The price field as wei: a plain decimal amount of ETH, 0 or more, at most 18 decimals (uint128 on chain). */
function parsePrice(text: string): bigint {
  if (/^-/.test(text)) throw new FormError('Price must be 0 or more.', 'price')
  const m = /^(\d*)(?:[.,](\d*))?$/.exec(text)
  if (!m || (m[1] === '' && !m[2])) throw new FormError(`Price “${text}” is not an amount in ETH (e.g. 0.01).`, 'price')
  if ((m[2] ?? '').length > 18) throw new FormError('Price can have at most 18 decimals (1 wei).', 'price')
  const wei = BigInt(m[1] || '0') * 10n ** 18n + BigInt((m[2] ?? '').padEnd(18, '0') || '0')
  if (wei >= 2n ** 128n) throw new FormError('Price is too large.', 'price')
  return wei
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function runPublish(input: PublishForm, view: PublishView): Promise<string> {
  const wallet = await currentWallet()
  const format = /\.jsonl?$/i.test(input.file.name) ? 'jsonl' : 'csv'
  // The enclave is checked here, on the chain as the user's own wallet reads it (any EIP-1193 wallet, or
  // the development wallet's local node) — never through the operator's RPC (R53).
  view.phase(PHASES.attesting)
  view.progress(null)
  const trusted = await trustEnclave(api, { provider: wallet.provider })
  const worker = new Worker(new URL('./publish.worker.ts', import.meta.url), { type: 'module' })
  const result = await new Promise<Extract<FromWorker, { type: 'done' }>['result']>((resolve, reject) => {
    worker.addEventListener('error', (e) =>
      reject(new Error(`The encryption worker stopped: ${e.message || 'unknown error'}`)),
    )
    worker.addEventListener('message', async (e: MessageEvent<FromWorker>) => {
      const m = e.data
      if (m.type === 'progress') {
        const phase = PHASES[m.progress.phase] ?? m.progress.phase
        // The marketplace waits out an enclave or IPFS that is down for a while before giving up: say so.
        view.phase(m.progress.retrying ? `${phase} (${m.progress.retrying.message}; trying again…)` : phase)
        view.progress(
          m.progress.phase === 'attesting' || m.progress.phase === 'signing'
            ? null
            : m.progress.bytes / m.progress.total,
        )
      } else if (m.type === 'sign') {
        let reply: ToWorker
        try {
          const signature = await wallet.signer.signTypedData(m.domain as never, m.types as never, m.value)
          reply = { type: 'signed', id: m.id, signature }
        } catch (err) {
          reply = { type: 'sign-failed', id: m.id, ...explainError(err) }
        }
        worker.postMessage(reply)
      } else if (m.type === 'done') resolve(m.result)
      else reject(new DescribedError(m.message, m.reference))
    })
    const start: StartMessage = {
      type: 'start',
      file: input.file,
      format,
      declaration: {
        name: input.title,
        description: input.description,
        tags: input.tags,
        policy: input.policy,
        lawfulBasis: input.lawfulBasis,
      },
      owner: wallet.address,
      apiUrl: api.apiUrl,
      trusted,
    }
    worker.postMessage(start)
  }).finally(() => worker.terminate())

  view.step('uploaded', `Encrypted on this device and uploaded: ${result.ciphertextCid}`)
  // The publication record is the marketplace's own account of the request (pending → minted | failed).
  if (result.id) {
    const record = await api.request<{ status: string; step: string | null }>(`/publications/${result.id}`)
    view.step('publication', `Publication ${result.id}: ${record.status}`)
  }
  view.step('minted', `Minted as asset #${result.tokenId} in transaction ${result.txHash}`, `/assets/${result.tokenId}`)

  if (input.offer) {
    view.phase('Setting the offer: confirm the transaction in your wallet')
    const tx = await buildSetOffer(api, result.tokenId, {
      price: input.offer.priceWei,
      durationSeconds: input.offer.durationSeconds,
      maxJobs: input.offer.maxJobs,
      epsilonBudgetMilli: input.offer.epsilonBudgetMilli,
    })
    const receipt = await sendBuilt(wallet.signer, tx)
    view.step('offer', `Offer set in transaction ${receipt.hash}`)
  }

  view.phase('Waiting for the indexer to read the mint from the chain')
  view.progress(null)
  for (let i = 0; ; i++) {
    const asset = await api.request<{ status: string }>(`/assets/${result.tokenId}`).catch(() => null)
    if (asset?.status === 'indexed') break
    if (i > 120) throw new Error(`Asset #${result.tokenId} is minted but not yet indexed; check its page later.`)
    await sleep(1000)
  }
  view.step('indexed', `Indexed: asset #${result.tokenId} is in the catalogue`, `/assets/${result.tokenId}`)
  view.phase('Done')
  view.progress(1)
  return result.tokenId
}
