// `stillflow publish <file>`: encrypt on this machine, sign once, upload, mint (R1, R7, R11) — and, with
// --price, put an offer on sale from the owner's wallet (R9, R66: the owner sets the price).
import { extname } from 'node:path'
import { Contract, parseEther } from 'ethers'
import { dataMarketAbi, NATIVE_CURRENCY } from '../../../contracts/index'
import { publish, type PublishResult } from '../../../sdk/src/index'
import { fileSource, nodeBackends } from '../../../sdk/src/node/index'
import type { Command } from '../command'
import { api, asCliError, keyOptions, rpcUrl, signer } from '../context'
import { CliError, EXIT } from '../exit-codes'
import { progressBar } from '../progress'

const FORMATS: Record<string, 'csv' | 'jsonl'> = { '.csv': 'csv', '.jsonl': 'jsonl', '.ndjson': 'jsonl' }

function number(ctx: { flags: Record<string, unknown> }, name: string, fallback: number, min: number): number {
  const raw = ctx.flags[name]
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isFinite(n) || n < min) throw new CliError(EXIT.usage, `--${name} must be a number ≥ ${min}`)
  return n
}

export const publishCommand: Command = {
  name: 'publish',
  summary: 'encrypt a CSV or JSON-lines file, upload it and mint its asset NFT (optionally with an offer)',
  usage:
    'stillflow publish <file> --title TEXT [--description TEXT] [--tags a,b] [--format csv|jsonl] ' +
    '[--policy dp|aggregates-only] [--lawful-basis BASIS --statement TEXT] [--personal-data] ' +
    '[--price ETH [--epsilon E] [--jobs N] [--days D]] [--idempotency-key K] [--key-file FILE | --dev-account N] [--json]',
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
    price: { type: 'string' },
    epsilon: { type: 'string' },
    jobs: { type: 'string' },
    days: { type: 'string' },
    'idempotency-key': { type: 'string' },
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
    const price = ctx.flags.price as string | undefined
    let priceWei: bigint | undefined
    if (price !== undefined) {
      try {
        priceWei = parseEther(price)
      } catch {
        throw new CliError(EXIT.usage, '--price is an amount of the native currency, e.g. 0.05')
      }
    }
    let source
    try {
      source = fileSource(file)
    } catch {
      throw new CliError(EXIT.usage, `cannot read ${file}`)
    }
    const wallet = await signer(ctx)
    const bar = progressBar(ctx.stderr, ctx.interactive)
    let result: PublishResult
    try {
      result = await publish({
        api: api(ctx),
        signer: wallet,
        source,
        format,
        declaration: {
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
        },
        enclave: { rpcUrl: rpcUrl(ctx) },
        idempotencyKey: ctx.flags['idempotency-key'] as string | undefined,
        // The CLI holds the key, so the second signature of a one-pass upload costs nothing (issue 5).
        upload: 'stream',
        ...nodeBackends,
        onProgress: (p) => {
          if (p.phase === 'attesting') bar.note('verifying the enclave attestation and its on-chain approval…')
          else if (p.phase === 'hashing' || p.phase === 'uploading') bar.update(p.phase, p.bytes, p.total)
          else if (p.phase === 'signing') bar.note('signing the Publish message…')
          else if (p.phase === 'ingesting')
            bar.note('uploaded; the enclave is ingesting the dataset, then the NFT is minted…')
        },
      })
    } catch (err) {
      bar.end()
      asCliError(err)
    }
    bar.end()
    let offer: { offerId: string; txHash: string } | undefined
    if (priceWei !== undefined) {
      const market = new Contract(
        (await api(ctx).request<{ contracts: Record<string, string> }>(`/enclave?nonce=0x${'00'.repeat(32)}`)).contracts
          .DataMarket,
        dataMarketAbi,
        wallet,
      )
      const terms = {
        price: priceWei,
        currency: NATIVE_CURRENCY,
        duration: Math.round(number(ctx, 'days', 30, 1) * 86400),
        maxJobs: Math.round(number(ctx, 'jobs', 100, 1)),
        epsilonBudgetMilli: Math.round(number(ctx, 'epsilon', 10, 0.001) * 1000),
        purposes: 0xffffffff,
      }
      try {
        const tx = await market.setOffer(result.tokenId, terms)
        const receipt = await tx.wait()
        const event = receipt.logs
          .map((l: { topics: string[]; data: string }) => market.interface.parseLog(l))
          .find((e: { name?: string } | null) => e?.name === 'OfferSet')
        offer = { offerId: String(event?.args?.offerId ?? '?'), txHash: receipt.hash }
      } catch (err) {
        asCliError(err)
      }
    }
    if (!ctx.json) {
      ctx.stdout.write(`published asset #${result.tokenId} (chain ${result.chainId})\n`)
      ctx.stdout.write(`  transaction     ${result.txHash}\n  content hash    ${result.contentHash}\n`)
      ctx.stdout.write(
        `  ciphertext      ipfs://${result.ciphertextCid}\n  metadata        ipfs://${result.metadataCid}\n`,
      )
      if (offer) ctx.stdout.write(`  offer           #${offer.offerId} at ${price} (tx ${offer.txHash})\n`)
    }
    return { ...result, offer }
  },
}
