// `stillflow publish <file>`: encrypt on this machine, sign once, upload, mint (R1, R7, R11) — and, with
// --price, put an offer on sale from the owner's wallet (R9, R66: the owner sets the price).
import { readFileSync, statSync } from 'node:fs'
import { extname } from 'node:path'
import { formatEther } from 'ethers'
import {
  ApiRequestError,
  buildSetOffer,
  checkDeclarationInput,
  EnclaveNotTrustedError,
  InvalidPublicationError,
  marketEvents,
  publish,
  sendBuilt,
  trustEnclave,
  type DeclarationInput,
  type NewOfferTerms,
  type PublishPhase,
  type PublishResult,
  type TrustedEnclave,
} from '../../../sdk/src/index'
import { fileSource, nodeBackends } from '../../../sdk/src/node/index'
import type { Command, CommandContext } from '../command'
import { api, apiUrl, asCliError, configDir, keyOptions, rpcUrl, signer, toCliError } from '../context'
import { CliError, EXIT } from '../exit-codes'
import { Interrupted, interruption } from '../interrupt'
import { offerOptions, offerTerms } from '../offer-terms'
import { normalizePolicy, type PrivacyPolicy } from '../../../tee-sim/src/policy'
import { progressBar } from '../progress'
import { pinRegistry, trustedRegistry } from '../trusted-registry'

const FORMATS: Record<string, 'csv' | 'jsonl'> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl' }

export const publishCommand: Command = {
  name: 'publish',
  summary: 'encrypt a CSV or JSON-lines file, upload it and mint its asset NFT (optionally with an offer)',
  usage:
    'stillflow publish <file> --title TEXT [--description TEXT] [--tags a,b] [--format csv|jsonl] ' +
    '[--policy dp|aggregates-only] [--policy-file FILE] [--allow-join] [--allow-union] [--identifier COLS] ' +
    '[--lawful-basis BASIS --statement TEXT] [--personal-data] ' +
    '[--price ETH [--epsilon E] [--jobs N] [--days D | --seconds S]] [--idempotency-key K] [--registry ADDRESS] ' +
    '[--key-file FILE | --dev-account N] [--json]',
  options: {
    ...keyOptions,
    title: { type: 'string' },
    description: { type: 'string' },
    tags: { type: 'string' },
    format: { type: 'string' },
    policy: { type: 'string' },
    'policy-file': { type: 'string' },
    'allow-join': { type: 'boolean' },
    'allow-union': { type: 'boolean' },
    identifier: { type: 'string' },
    'lawful-basis': { type: 'string' },
    statement: { type: 'string' },
    'personal-data': { type: 'boolean' },
    ...offerOptions,
    'idempotency-key': { type: 'string' },
    registry: { type: 'string' },
  },
  async run(ctx) {
    // Ctrl-C says what it left behind: before the signed Publish reaches the marketplace nothing is
    // published; after it, the marketplace carries on and mints without this command.
    const stop = interruption()
    stop.arm()
    try {
      return await publishFile(ctx, stop)
    } finally {
      stop.disarm()
    }
  },
}

async function publishFile(ctx: CommandContext, stop: ReturnType<typeof interruption>) {
  const [file] = ctx.args
  if (!file || ctx.args.length > 1) throw new CliError(EXIT.usage, 'give exactly one file to publish')
  const title = ctx.flags.title
  if (typeof title !== 'string' || !title.trim()) throw new CliError(EXIT.usage, '--title is required')
  const format = (ctx.flags.format as string | undefined) ?? FORMATS[extname(file).toLowerCase()]
  if (format !== 'csv' && format !== 'jsonl')
    throw new CliError(EXIT.usage, 'cannot tell the format: use --format csv|jsonl')
  const policy = policyOf(ctx)
  const policyMode = policy.mode
  // Checked now: once the asset is minted, a bad term could only fail the offer.
  const terms = offerTerms(ctx, false)
  // As the marketplace refuses it (offer_budget_below_query_cost): a licence that cannot pay for one query.
  const perQueryMilli = normalizePolicy(policy).epsilonPerQueryMilli
  if (terms && policyMode === 'dp' && terms.epsilonBudgetMilli < perQueryMilli)
    throw new CliError(
      EXIT.usage,
      `--epsilon ${terms.epsilonBudgetMilli / 1000} could not pay for one query: under --policy dp each query ` +
        `spends ε ${perQueryMilli / 1000}; offer at least --epsilon ${perQueryMilli / 1000}`,
    )
  let source
  try {
    // A directory or a pipe (/dev/stdin) has no size to sign for; it failed later, blamed on the uploader.
    if (!statSync(file).isFile())
      throw new CliError(
        EXIT.usage,
        `${file} is not a regular file: publish reads a file whose size it knows (save piped data to a file first)`,
      )
    source = fileSource(file)
  } catch (err) {
    if (err instanceof CliError) throw err
    const code = (err as NodeJS.ErrnoException).code
    throw new CliError(
      EXIT.usage,
      `cannot read ${file}${code === 'ENOENT' ? ': no such file' : code ? ` (${code})` : ''}`,
    )
  }
  if (source.size === 0) throw new CliError(EXIT.usage, `${file} is empty`)
  const declaration: DeclarationInput = {
    name: title,
    description: (ctx.flags.description as string | undefined) ?? '',
    tags:
      typeof ctx.flags.tags === 'string'
        ? ctx.flags.tags
            .split(',')
            // Tags are lowercase (sdk/src/tags.ts): "Demo" is the tag "demo", not a refusal.
            .map((t) => t.trim().normalize('NFC').toLowerCase())
            .filter(Boolean)
        : [],
    policy,
    lawfulBasis: {
      basis: (ctx.flags['lawful-basis'] as string | undefined) ?? 'owned',
      statement: (ctx.flags.statement as string | undefined) ?? 'I own this dataset and may license computation on it.',
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
  let phase: PublishPhase = 'attesting'
  let publication: string | undefined
  bar.note('verifying the enclave attestation and its on-chain approval…')
  let enclave: TrustedEnclave
  try {
    enclave = await stop.race(trustEnclave(api(ctx), { rpcUrl: rpcUrl(ctx), registry: trust.registry }))
  } catch (err) {
    bar.end()
    if (err instanceof Interrupted) throw interruptedPublish(phase, terms, publication)
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
    result = await stop.race(
      publish({
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
          phase = p.phase
          publication = p.publication ?? publication
          if (p.phase === 'attesting') bar.note('verifying the enclave attestation and its on-chain approval…')
          else if (p.phase === 'hashing' || p.phase === 'uploading') bar.update(p.phase, p.bytes, p.total)
          else if (p.phase === 'signing') bar.note('signing the Publish message…')
          else if (p.phase === 'ingesting') {
            // Worth a line in a script's log too, not only on a terminal: from here the marketplace
            // finishes the publication whatever this command does.
            const line = p.retrying
              ? `${p.retrying.message}; the marketplace is trying again…`
              : `uploaded and signed (publication ${p.publication}); the enclave is ingesting the dataset, then the NFT is minted…`
            if (ctx.interactive) bar.note(line)
            else ctx.stderr.write(`stillflow publish: ${line}\n`)
          }
        },
      }),
    )
  } catch (err) {
    bar.end()
    if (err instanceof Interrupted) throw interruptedPublish(phase, terms, publication)
    throw alreadyPublished(err, terms)
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
      const receipt = await stop.race(
        buildSetOffer(api(ctx), result.tokenId, terms, { from: await wallet.getAddress() }).then((tx) =>
          sendBuilt(wallet, tx),
        ),
      )
      offer = { offerId: marketEvents(receipt).offerId ?? '?', txHash: receipt.hash }
    } catch (err) {
      if (err instanceof Interrupted)
        throw new CliError(
          EXIT.interrupted,
          `asset #${result.tokenId} is published; interrupted while its offer was being set: ` +
            `stillflow offer list ${result.tokenId} shows whether it was`,
          { ...result, offer: 'unknown' },
        )
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
      ctx.stdout.write(`  offer           #${offer.offerId} at ${formatEther(terms!.price)} ETH (tx ${offer.txHash})\n`)
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
}

/**
 * The owner's privacy policy from the options: `--policy-file` (a JSON PrivacyPolicy, tee-sim/src/policy.ts)
 * for every setting, `--policy` for the mode, and the common opt-ins as flags — `--allow-join` and
 * `--allow-union` (jobs across assets, R67, and the enclave's PSI mode) and `--identifier a,b` (columns never
 * selected, grouped or filtered on). Checked as the enclave checks it, before anything is read or signed.
 */
function policyOf(ctx: CommandContext): PrivacyPolicy {
  let policy: PrivacyPolicy = { mode: 'dp' }
  const file = ctx.flags['policy-file']
  if (typeof file === 'string') {
    try {
      policy = JSON.parse(readFileSync(file, 'utf8')) as PrivacyPolicy
    } catch (err) {
      throw new CliError(EXIT.usage, `--policy-file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'not JSON'}`)
    }
    if (typeof policy !== 'object' || policy === null || Array.isArray(policy))
      throw new CliError(EXIT.usage, `--policy-file ${file} must hold a JSON object`)
  }
  const mode = ctx.flags.policy as string | undefined
  if (mode !== undefined) {
    if (mode !== 'dp' && mode !== 'aggregates-only') throw new CliError(EXIT.usage, '--policy is dp or aggregates-only')
    policy = { ...policy, mode }
  }
  if (ctx.flags['allow-join'] === true) policy = { ...policy, allowJoin: true }
  if (ctx.flags['allow-union'] === true) policy = { ...policy, allowUnion: true }
  if (typeof ctx.flags.identifier === 'string') {
    const columns = { ...policy.columns }
    for (const name of ctx.flags.identifier
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean))
      columns[name] = { ...columns[name], identifier: true }
    policy = { ...policy, columns }
  }
  try {
    normalizePolicy(policy)
  } catch (err) {
    throw new CliError(EXIT.usage, (err as Error).message)
  }
  return policy
}

/** What a Ctrl-C during `phase` left behind, and what to do next (exit 130). */
function interruptedPublish(
  phase: PublishPhase,
  terms: NewOfferTerms | undefined,
  publication: string | undefined,
): CliError {
  const offerLater = terms
    ? `; the offer was not set: once it is minted, run stillflow offer create <asset> --price ${formatEther(terms.price)}`
    : ''
  if (phase === 'ingesting')
    return new CliError(
      EXIT.interrupted,
      `stopped waiting; the upload is complete and signed, so the marketplace carries on: the enclave ingests the ` +
        `dataset and the NFT is minted without this command (publication ${publication}; stillflow assets lists it)${offerLater}`,
      { phase, published: 'in progress', publication },
    )
  if (phase === 'signing')
    return new CliError(
      EXIT.interrupted,
      'interrupted while the Publish message was signed and sent: if the marketplace received it, it carries on and ' +
        `mints the asset (stillflow assets shows it); otherwise nothing was published${offerLater}`,
      { phase, published: 'unknown' },
    )
  return new CliError(
    EXIT.interrupted,
    'interrupted before the upload was complete and signed: nothing was published (the marketplace drops an ' +
      'unsigned upload)',
    { phase, published: false },
  )
}

/**
 * A refusal as the CLI error, with a way forward for `already_published`: usually the owner's own earlier
 * run (interrupted, or its offer failed), which needs only the offer.
 */
function alreadyPublished(err: unknown, terms: NewOfferTerms | undefined): CliError {
  const e = toCliError(err)
  if (!(err instanceof ApiRequestError) || err.code !== 'already_published') return e
  const tokenId = (err.body as { error?: { tokenId?: string } } | undefined)?.error?.tokenId
  if (!tokenId) return e
  e.message +=
    `; if asset #${tokenId} is yours (an earlier run published it), ` +
    (terms
      ? `put it on sale with: stillflow offer create ${tokenId} --price ${formatEther(terms.price)}`
      : `stillflow assets lists it and stillflow offer create ${tokenId} puts it on sale`)
  return e
}
