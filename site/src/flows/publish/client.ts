// The publish wizard's behaviour (issue 7; DESIGN §3 Publish; R1, R7, R13): read the form, encrypt and
// upload in a Web Worker with a progress bar, ask the wallet for the one Publish signature, set the offer
// from the owner's wallet, then watch the asset go from pending to indexed.
import { parseEther } from 'ethers'
import type { PrivacyPolicy } from '../../../../tee-sim/src/index'
import { buildSetOffer, sendBuilt, trustEnclave, type DeclarationInput } from '../../../../sdk/src/index'
import { api, currentWallet, describeError } from '../../wallet/index'
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
  offer: { priceEth: string; durationDays: number; maxJobs: number; epsilonBudget: number } | null
}

export interface PublishView {
  phase(text: string): void
  progress(fraction: number | null): void
  step(name: 'uploaded' | 'publication' | 'minted' | 'offer' | 'indexed', text: string, href?: string): void
}

/** Reads and checks the form; a mistake throws an Error naming the field. */
export function readForm(form: HTMLFormElement): PublishForm {
  const v = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | null)?.value.trim() ?? ''
  const file = (form.elements.namedItem('file') as HTMLInputElement).files?.[0]
  if (!file) throw new Error('Choose a CSV or JSON Lines file to publish.')
  if (file.size === 0) throw new Error('The file is empty.')
  const num = (name: string, label: string, min: number) => {
    const n = Number(v(name))
    if (!Number.isFinite(n) || n < min) throw new Error(`${label} must be a number of at least ${min}.`)
    return n
  }
  const mode = v('mode') === 'aggregates-only' ? 'aggregates-only' : 'dp'
  const policy: PrivacyPolicy =
    mode === 'dp'
      ? {
          mode,
          epsilonPerQueryMilli: Math.round(num('epsilon', 'ε per query', 0.001) * 1000),
          maxGroups: Math.round(num('maxGroups', 'Most groups', 1)),
        }
      : {
          mode,
          minGroupSize: Math.round(num('minGroupSize', 'Smallest group', 2)),
          maxGroups: Math.round(num('maxGroups', 'Most groups', 1)),
        }
  const price = v('price')
  return {
    file,
    title: v('title'),
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
    offer:
      price === ''
        ? null
        : {
            priceEth: price,
            durationDays: num('durationDays', 'Licence duration', 1),
            maxJobs: Math.round(num('maxJobs', 'Jobs per licence', 1)),
            epsilonBudget: num('epsilonBudget', 'ε budget per licence', 0.001),
          },
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function runPublish(input: PublishForm, view: PublishView): Promise<string> {
  const wallet = await currentWallet()
  let priceWei: bigint | null = null
  if (input.offer) {
    try {
      priceWei = parseEther(input.offer.priceEth)
    } catch {
      throw new Error(`Price “${input.offer.priceEth}” is not an amount in ETH (e.g. 0.01).`)
    }
  }
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
          reply = { type: 'sign-failed', id: m.id, message: describeError(err) }
        }
        worker.postMessage(reply)
      } else if (m.type === 'done') resolve(m.result)
      else reject(new Error(m.message))
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

  if (input.offer && priceWei !== null) {
    view.phase('Setting the offer: confirm the transaction in your wallet')
    const tx = await buildSetOffer(api, result.tokenId, {
      price: priceWei,
      durationSeconds: Math.round(input.offer.durationDays * 86_400),
      maxJobs: input.offer.maxJobs,
      epsilonBudgetMilli: Math.round(input.offer.epsilonBudget * 1000),
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
