// The publish wizard's behaviour (issue 7; DESIGN §3 Publish; R1, R7, R13): read the form, encrypt and
// upload in a Web Worker with a progress bar, ask the wallet for the one Publish signature, set the offer
// from the owner's wallet, then watch the asset go from pending to indexed.
import type { PrivacyPolicy } from '../../../../tee-sim/src/index'
import {
  buildSetOffer,
  sendBuilt,
  trustEnclave,
  type DeclarationInput,
  type NewOfferTerms,
} from '../../../../sdk/src/index'
import { fields, FormError, readOffer } from '../offer-form'

export { FormError }
import { endSentence } from '../../lib/format'
import { api, currentWallet, DescribedError, explainError } from '../../wallet/index'
import type { FromWorker, StartMessage, ToWorker } from './protocol'

const PHASES: Record<string, string> = {
  attesting: 'Checking the enclave’s attestation against the chain',
  hashing: 'Encrypting and hashing on this device',
  signing: 'Waiting for your signature',
  uploading: 'Encrypting again and uploading the ciphertext',
  // From here the marketplace mints without this page; the offer is this page's to set afterwards.
  ingesting:
    'Uploaded and signed: the enclave is ingesting the dataset, then the asset is minted. Keep this page open to set the offer',
  done: 'Uploaded; the enclave ingested it and the asset is minted',
}

export interface PublishForm {
  file: File
  title: string
  description: string
  tags: string[]
  policy: PrivacyPolicy
  lawfulBasis: DeclarationInput['lawfulBasis']
  offer: NewOfferTerms | null
}

export interface PublishView {
  phase(text: string): void
  progress(fraction: number | null): void
  step(name: 'uploaded' | 'publication' | 'minted' | 'offer' | 'indexed', text: string, href?: string): void
}

/**
 * Reads and checks the whole form before anything is encrypted, uploaded or minted; a mistake throws a
 * FormError naming the field by its label. The offer is checked here too: an offer the contract or the
 * enclave would refuse must not leave a minted asset without one.
 */
export function readForm(form: HTMLFormElement): PublishForm {
  const { v, num, milli } = fields(form)
  const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0]
  if (!file) throw new FormError('Choose a CSV or JSON Lines file to publish.', 'file')
  if (file.size === 0) throw new FormError('The file is empty.', 'file')
  const title = v('title')
  if (!title) throw new FormError('Title is required.', 'title')
  const mode = v('mode') === 'aggregates-only' ? 'aggregates-only' : 'dp'
  const maxGroups = num('maxGroups', 'Most groups one query may return', 1, { whole: true })
  const checked = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.checked === true
  // The opt-ins and identifier columns the CLI's --allow-join, --allow-union and --identifier set (R67).
  const identifiers = v('identifiers')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
  const shared = {
    maxGroups,
    ...(checked('allowJoin') ? { allowJoin: true } : {}),
    ...(checked('allowUnion') ? { allowUnion: true } : {}),
    ...(identifiers.length ? { columns: Object.fromEntries(identifiers.map((c) => [c, { identifier: true }])) } : {}),
  }
  const policy: PrivacyPolicy =
    mode === 'dp'
      ? // tee-sim/src/policy.ts: epsilonPerQueryMilli is an integer in 1..100000.
        { mode, epsilonPerQueryMilli: milli('epsilon', 'ε spent per query', 100), ...shared }
      : {
          mode,
          minGroupSize: num('minGroupSize', 'Smallest group released', 2, { whole: true, max: 1_000_000 }),
          ...shared,
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
    offer: readOffer(form, policy.mode === 'dp' ? policy.epsilonPerQueryMilli! : null),
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Asks before the page is left: a reload after the upload mints the asset but never sets its offer. */
const stay = (e: BeforeUnloadEvent) => {
  e.preventDefault()
  e.returnValue = ''
}

export async function runPublish(input: PublishForm, view: PublishView): Promise<string> {
  addEventListener('beforeunload', stay)
  try {
    return await publishAndOffer(input, view)
  } finally {
    removeEventListener('beforeunload', stay)
  }
}

/**
 * The marketplace's refusal as shown; an already published file gets the way forward — usually the
 * owner's own earlier try, which minted but whose offer was never set.
 */
function refusal(message: string, reference?: string): DescribedError {
  const tokenId = reference === 'already_published' ? /asset (\d+)/.exec(message)?.[1] : undefined
  if (!tokenId) return new DescribedError(message, reference)
  return new DescribedError(
    `${endSentence(message)} If it is yours (an earlier try published it), open /assets/${tokenId} with this wallet to put it on sale.`,
    reference,
  )
}

async function publishAndOffer(input: PublishForm, view: PublishView): Promise<string> {
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
      else reject(refusal(m.message, m.reference))
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
    const tx = await buildSetOffer(api, result.tokenId, input.offer, { from: wallet.address })
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
