// `stillflow publish <file>`: encrypt on this machine, sign once, upload, mint (R1, R7, R11) — and, with
// --price, put an offer on sale from the owner's wallet (R9, R66: the owner sets the price).
import { extname } from 'node:path'
import { formatEther } from 'ethers'
import {
  buildSetOffer,
  checkDeclarationInput,
  EnclaveNotTrustedError,
  InvalidPublicationError,
  marketEvents,
  publish,
  sendBuilt,
  trustEnclave,
  type DeclarationInput,
  type PublishResult,
  type TrustedEnclave,
} from '../../../sdk/src/index'
import { fileSource, nodeBackends } from '../../../sdk/src/node/index'
import type { Command } from '../command'
import { api, apiUrl, asCliError, configDir, keyOptions, rpcUrl, signer, toCliError } from '../context'
import { CliError, EXIT } from '../exit-codes'
import { offerOptions, offerTerms } from '../offer-terms'
import { normalizePolicy } from '../../../tee-sim/src/policy'
import { progressBar } from '../progress'
import { pinRegistry, trustedRegistry } from '../trusted-registry'

const FORMATS: Record<string, 'csv' | 'jsonl'> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl' }

export const publishCommand: Command = {
  name: 'publish',
  summary: 'encrypt a CSV or JSON-lines file, upload it and mint its asset NFT (optionally with an offer)',
  usage:
    'stillflow publish <file> --title TEXT [--description TEXT] [--tags a,b] [--format csv|jsonl] ' +
    '[--policy dp|aggregates-only] [--lawful-basis BASIS --statement TEXT] [--personal-data] ' +
    '[--price ETH [--epsilon E] [--jobs N] [--days D | --seconds S]] [--idempotency-key K] [--registry ADDRESS] ' +
    '[--key-file FILE | --dev-account N] [--json]',
  options: {
    ...keyOptions,
    title: { type: 'string' },
    description: { type: 'string' },
    tags: { type: 'string' },
    format: { type: 'string' },
    policy: { type: 'string' },
    'lawful-basis': { type: 'string' },
    statement: { type: 'string' },
    'personal-data': { type: 'boolean' },
    ...offerOptions,
    'idempotency-key': { type: 'string' },
    registry: { type: 'string' },
  },
  async run(ctx) {
    const [file] = ctx.args
    if (!file || ctx.args.length > 1) throw new CliError(EXIT.usage, 'give exactly one file to publish')
    const title = ctx.flags.title
    if (typeof title !== 'string' || !title.trim()) throw new CliError(EXIT.usage, '--title is required')
    const format = (ctx.flags.format as string | undefined) ?? FORMATS[extname(file).toLowerCase()]
    if (format !== 'csv' && format !== 'jsonl')
      throw new CliError(EXIT.usage, 'cannot tell the format: use --format csv|jsonl')
    const policyMode = (ctx.flags.policy as string | undefined) ?? 'dp'
    if (policyMode !== 'dp' && policyMode !== 'aggregates-only')
      throw new CliError(EXIT.usage, '--policy is dp or aggregates-only')
    // Checked now: once the asset is minted, a bad term could only fail the offer.
    const terms = offerTerms(ctx, false)
    // As the marketplace refuses it (offer_budget_below_query_cost): a licence that cannot pay for one query.
    const perQueryMilli = normalizePolicy({ mode: policyMode }).epsilonPerQueryMilli
    if (terms && policyMode === 'dp' && terms.epsilonBudgetMilli < perQueryMilli)
      throw new CliError(
        EXIT.usage,
        `--epsilon ${terms.epsilonBudgetMilli / 1000} could not pay for one query: under --policy dp each query ` +
          `spends ε ${perQueryMilli / 1000}; offer at least --epsilon ${perQueryMilli / 1000}`,
      )
    let source
    try {
      source = fileSource(file)
    } catch {
      throw new CliError(EXIT.usage, `cannot read ${file}`)
    }
    if (source.size === 0) throw new CliError(EXIT.usage, `${file} is empty`)
    const declaration: DeclarationInput = {
      name: title,
      description: (ctx.flags.description as string | undefined) ?? '',
      tags:
        typeof ctx.flags.tags === 'string'
          ? ctx.flags.tags
              .split(',')
              .map((t) => t.trim())
              .filter(Boolean)
          : [],
      policy: { mode: policyMode },
      lawfulBasis: {
        basis: (ctx.flags['lawful-basis'] as string | undefined) ?? 'owned',
        statement:
          (ctx.flags.statement as string | undefined) ?? 'I own this dataset and may license computation on it.',
        personalData: ctx.flags['personal-data'] === true,
      },
    }
    // What the options say is checked before the key is asked for or the enclave is: a usage error.
    try {
      checkDeclarationInput(declaration)
    } catch (err) {
      if (err instanceof InvalidPublicationError) throw new CliError(EXIT.usage, err.message)
      throw err
    }
    const wallet = await signer(ctx)
    const bar = progressBar(ctx.stderr, ctx.interactive)
    const home = configDir(ctx)
    const marketplace = apiUrl(ctx)
    const given = (ctx.flags.registry as string | undefined) ?? ctx.env.STILLFLOW_REGISTRY
    const trust = trustedRegistry(home, marketplace, given)
    bar.note('verifying the enclave attestation and its on-chain approval…')
    let enclave: TrustedEnclave
    try {
      enclave = await trustEnclave(api(ctx), { rpcUrl: rpcUrl(ctx), registry: trust.registry })
    } catch (err) {
      bar.end()
      if (err instanceof EnclaveNotTrustedError && trust.pinned)
        throw new CliError(
          EXIT.failure,
          `${err.message}. This machine pinned that registry for ${marketplace} on its first publish; if the ` +
            'marketplace really moved to another one, check its address from a source you trust and pass it with --registry',
        )
      asCliError(err)
    }
    let result: PublishResult
    try {
      result = await publish({
        api: api(ctx),
        signer: wallet,
        source,
        format,
        declaration,
        enclave: { trusted: enclave },
        idempotencyKey: ctx.flags['idempotency-key'] as string | undefined,
        // The CLI holds the key, so the second signature of a one-pass upload costs nothing (issue 5).
        upload: 'stream',
        ...nodeBackends,
        onProgress: (p) => {
          if (p.phase === 'attesting') bar.note('verifying the enclave attestation and its on-chain approval…')
          else if (p.phase === 'hashing' || p.phase === 'uploading') bar.update(p.phase, p.bytes, p.total)
          else if (p.phase === 'signing') bar.note('signing the Publish message…')
          else if (p.phase === 'ingesting' && p.retrying) {
            // Worth a line in a script's log too, not only on a terminal.
            const line = `${p.retrying.message}; the marketplace is trying again…`
            if (ctx.interactive) bar.note(line)
            else ctx.stderr.write(`stillflow publish: ${line}\n`)
          } else if (p.phase === 'ingesting')
            bar.note('uploaded; the enclave is ingesting the dataset, then the NFT is minted…')
        },
      })
    } catch (err) {
      bar.end()
      asCliError(err)
    }
    bar.end()
    if (!trust.pinned) {
      pinRegistry(home, marketplace, enclave.contracts.EnclaveRegistry)
      if (given === undefined)
        ctx.stderr.write(
          `stillflow publish: pinned EnclaveRegistry ${enclave.contracts.EnclaveRegistry} for ${marketplace}; ` +
            'a later publish refuses an API that names another one\n',
        )
    }
    let offer: { offerId: string; txHash: string } | undefined
    let offerFailure: unknown
    if (terms) {
      try {
        const receipt = await sendBuilt(
          wallet,
          await buildSetOffer(api(ctx), result.tokenId, terms, { from: await wallet.getAddress() }),
        )
        offer = { offerId: marketEvents(receipt).offerId ?? '?', txHash: receipt.hash }
      } catch (err) {
        offerFailure = err
      }
    }
    if (!ctx.json) {
      ctx.stdout.write(`published asset #${result.tokenId} (chain ${result.chainId})\n`)
      ctx.stdout.write(`  transaction     ${result.txHash}\n  content hash    ${result.contentHash}\n`)
      ctx.stdout.write(
        `  ciphertext      ipfs://${result.ciphertextCid}\n  metadata        ipfs://${result.metadataCid}\n`,
      )
      if (offer)
        ctx.stdout.write(`  offer           #${offer.offerId} at ${formatEther(terms!.price)} (tx ${offer.txHash})\n`)
    }
    if (offerFailure !== undefined) {
      // The asset stands (it is minted and listed); only the offer is missing, and the owner can add it.
      const err = toCliError(offerFailure)
      throw new CliError(
        err.exitCode,
        `asset #${result.tokenId} is published, but its offer was not set: ${err.message}; ` +
          `put it on sale with: stillflow offer create ${result.tokenId} --price ${formatEther(terms!.price)}`,
        ctx.json ? { ...result, offerError: err.details ?? err.message } : err.details,
      )
    }
    return { ...result, offer }
  },
}
