// `stillflow job <asset> "<sql>"`: run a query under the caller's licence (DESIGN §3 "Compute job"). A
// fresh result key per job, the JobRequest signed by the licence holder, a spinner while the enclave
// works, then the result verified against its receipt and decrypted here — the only place it is plaintext.
// Several assets (R67, possibly of different owners): `stillflow job 3:crm 5:shop "SELECT COUNT(*) FROM crm
// JOIN shop ON crm.id = shop.id"` — each asset under one of the caller's licences, bound to a table name.
// The result key is stored (cli/src/result-keys.ts) before the job is submitted, so a command that stops
// waiting — Ctrl-C, --timeout-seconds, a lost connection — leaves a job whose result `stillflow job result
// <jobId>` still collects: a buyer never pays for a result nobody can open.
import { Contract } from 'ethers'
import { dataAssetNftAbi } from '../../../contracts/index'
import {
  ApiClient,
  ApiRequestError,
  JobNotSucceededError,
  ResultVerificationError,
  collectJobResult,
  findLicences,
  runComputeJob,
  type JobOutcome,
  type LicenceState,
} from '../../../sdk/src/index'
import type { Command, CommandContext } from '../command'
import { api, apiUrl, asCliError, configDir, keyOptions, signer, toCliError } from '../context'
import { CliError, EXIT } from '../exit-codes'
import { Interrupted, interruption } from '../interrupt'
import { loadResultKey, parseJobId, removeResultKey, resultKeyDir, saveResultKey } from '../result-keys'

interface ChainInfo {
  chainId: number
  contracts: Record<string, string>
  deployedAtBlock: number
}

/** A one-line spinner on stderr, only on a terminal. */
function spinner(ctx: CommandContext) {
  const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏'
  let label = ''
  let i = 0
  const timer = ctx.interactive
    ? setInterval(() => ctx.stderr.write(`\r${frames[i++ % frames.length]} ${label}\x1b[K`), 100)
    : undefined
  return {
    set(text: string) {
      label = text
    },
    /** A line that stays, above the spinner. */
    note(line: string) {
      ctx.stderr.write(`${timer ? '\r\x1b[K' : ''}${line}\n`)
    },
    stop() {
      if (timer) {
        clearInterval(timer)
        ctx.stderr.write('\r\x1b[K')
      }
    },
  }
}

const collectCommand = (jobId: string) => `stillflow job result ${jobId}`

/** --timeout-seconds S: stop waiting after S seconds (the job carries on). */
function timeoutMs(ctx: CommandContext): number | undefined {
  const raw = ctx.flags['timeout-seconds']
  if (raw === undefined) return undefined
  const s = Number(raw)
  if (!Number.isInteger(s) || s < 0) throw new CliError(EXIT.usage, '--timeout-seconds must be an integer ≥ 0')
  return s * 1000
}

/**
 * What a failure after the job was signed means for the buyer, and whether its result key is still worth
 * keeping: only while a result may yet be opened with it.
 */
function jobFailure(home: string, jobId: string, err: unknown, opts: { accepted: boolean; apiUrl: string }): CliError {
  const collect = collectCommand(jobId)
  const details = { jobId, collect }
  if (err instanceof JobNotSucceededError) {
    removeResultKey(home, jobId)
    return new CliError(EXIT.rejected, `job ${err.job.status}: ${err.shortMessage} (${err.code})`, err.job)
  }
  if (err instanceof ApiRequestError && err.status === 410) {
    removeResultKey(home, jobId)
    return new CliError(
      EXIT.rejected,
      `the result of job ${jobId} is past its retention and was deleted; it can no longer be opened (${err.code})`,
      err.body,
    )
  }
  if (err instanceof ApiRequestError && err.status === 404 && opts.accepted)
    return new CliError(
      EXIT.rejected,
      `the marketplace at ${opts.apiUrl} has no job ${jobId}: its submission never arrived, or it went to another API (--api)`,
      err.body,
    )
  if (err instanceof ApiRequestError && err.status < 500 && !opts.accepted) {
    // Refused at submission: there is no job, so no result to keep a key for.
    removeResultKey(home, jobId)
    return toCliError(err)
  }
  if (err instanceof ResultVerificationError)
    return new CliError(
      EXIT.failure,
      `job ${jobId}: ${err.shortMessage}, so it was not opened; its result key is kept (${collect} tries again)`,
      details,
    )
  if (err instanceof Interrupted)
    return new CliError(
      EXIT.interrupted,
      opts.accepted
        ? `interrupted; job ${jobId} carries on (and is charged if it succeeds). Collect its result later with: ${collect}`
        : `interrupted while submitting job ${jobId}; if the marketplace accepted it, collect its result later with: ${collect}`,
      details,
    )
  const reason = toCliError(err).message
  return new CliError(
    EXIT.pending,
    `stopped waiting for job ${jobId}: ${reason}. ${opts.accepted ? 'The job carries on' : 'The job may have been accepted'}; collect its result later with: ${collect}`,
    details,
  )
}

/** The result as the buyer sees it: a table (human) or the JSON object, the same for `job` and `job result`. */
function present(ctx: CommandContext, outcome: JobOutcome) {
  const { result, receipt, jobId, txHash } = outcome
  const r = receipt.receipt
  // Each licence's charge: one for a single asset, one per part for a job across assets.
  const charges =
    'parts' in r
      ? r.parts.map((p) => ({ licenceId: p.licenceId, epsilonSpentMilli: p.epsilonSpentMilli }))
      : [{ licenceId: r.licenceId, epsilonSpentMilli: r.epsilonSpentMilli }]
  if (!ctx.json) {
    ctx.stdout.write(formatTable(result.columns, result.rows))
    const spent = charges.map((c) => `ε ${c.epsilonSpentMilli / 1000} on licence #${c.licenceId}`).join(', ')
    // What is not in the table and why: DP leaves out groups whose noisy count is under τ, aggregates-only
    // those under the owner's minimum group size.
    const pr = result.privacy
    const withheld = pr.threshold
      ? `; groups with fewer than about ${Math.ceil(pr.threshold)} rows withheld`
      : pr.minGroupSize
        ? `; groups smaller than ${pr.minGroupSize} withheld`
        : ''
    ctx.stderr.write(`job ${jobId}: ${spent} (${pr.mode}${withheld}); receipt tx ${txHash}\n`)
  }
  return {
    jobId,
    columns: result.columns,
    rows: result.rows,
    privacy: result.privacy,
    receipt,
    txHash,
    licenceId: charges[0].licenceId,
    ...(charges.length > 1 ? { charges } : {}),
  }
}

/**
 * `stillflow job result <jobId>`: waits for a job this machine submitted (if it still runs), fetches its
 * sealed result, verifies it against the receipt and opens it with the stored result key — as `job` does.
 */
async function collect(ctx: CommandContext) {
  if (ctx.args.length !== 2) throw new CliError(EXIT.usage, 'give one job id: stillflow job result <jobId>')
  const jobId = parseJobId(ctx.args[1])
  if (!jobId) throw new CliError(EXIT.usage, `${JSON.stringify(ctx.args[1])} is not a job id (0x and 64 hex digits)`)
  const limit = timeoutMs(ctx)
  const home = configDir(ctx)
  const stored = loadResultKey(home, jobId)
  if (!stored)
    throw new CliError(
      EXIT.usage,
      `this machine holds no result key for job ${jobId} (looked in ${resultKeyDir(home)}): only the machine that submitted a job keeps its key, until the job fails or expires or its result is deleted`,
    )
  // The job lives on the API it was submitted to, unless --api says otherwise.
  const url = typeof ctx.flags.api === 'string' ? apiUrl(ctx) : stored.apiUrl
  const client = new ApiClient({ apiUrl: url })
  const spin = spinner(ctx)
  const stop = interruption()
  const secretKey = Uint8Array.from(Buffer.from(stored.secretKey.slice(2), 'hex'))
  let outcome: JobOutcome
  stop.arm()
  try {
    spin.set(`job ${jobId.slice(0, 10)}…`)
    outcome = await stop.race(
      collectJobResult(client, jobId, secretKey, {
        chainId: stored.chainId,
        computeLedger: stored.computeLedger,
        timeoutMs: limit,
        signal: stop.signal,
        onStatus: (j) => spin.set(`job ${j.jobId.slice(0, 10)}… ${j.status}`),
      }),
    )
  } catch (err) {
    spin.stop()
    throw jobFailure(home, jobId, err, { accepted: true, apiUrl: url })
  } finally {
    stop.disarm()
    secretKey.fill(0)
  }
  spin.stop()
  // Kept: the marketplace holds the sealed result for its retention period, and the buyer may open it again.
  return present(ctx, outcome)
}

/** East Asian wide and fullwidth characters (CJK, Hangul, kana, fullwidth forms) take two terminal columns. */
const WIDE =
  /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/gu

/** Terminal columns a cell takes: combining marks none, wide characters two. */
export const displayWidth = (s: string): number => [...s.replace(/\p{M}/gu, '')].length + (s.match(WIDE)?.length ?? 0)

/** The result as an aligned text table (aligned in a terminal, also for 城市 and other wide text). */
export function formatTable(columns: string[], rows: Array<Array<string | number | null>>): string {
  const cells = [columns, ...rows.map((r) => r.map((c) => (c === null ? 'NULL' : String(c))))]
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => displayWidth(r[i] ?? ''))))
  const line = (r: string[]) =>
    r
      .map((c, i) => c + ' '.repeat(widths[i] - displayWidth(c)))
      .join('  ')
      .trimEnd()
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n'
}

function pickLicence(licences: LicenceState[], wanted: string | undefined, tokenId: string): LicenceState {
  if (wanted) {
    const l = licences.find((x) => x.licenceId === wanted)
    if (!l) throw new CliError(EXIT.rejected, `licence #${wanted} is not yours for asset #${tokenId}`)
    return l
  }
  const usable = licences.find((l) => l.live && l.jobsLeft > 0 && l.epsilonLeftMilli > 0)
  if (!usable)
    throw new CliError(
      EXIT.rejected,
      licences.length
        ? `none of your ${licences.length} licence(s) for asset #${tokenId} is live with jobs and ε left`
        : `you hold no licence for asset #${tokenId}: buy one with stillflow buy ${tokenId} <offer>`,
    )
  return usable
}

export const jobCommand: Command = {
  name: 'job',
  summary: 'run a (differentially private) SQL query on an asset you hold a licence for',
  usage: [
    'stillflow job <asset>[:table] [<asset>:table …] "<sql>" [--licence N] [--deadline-seconds S] [--timeout-seconds S] [--key-file FILE | --dev-account N] [--json]',
    '       stillflow job result <jobId> [--timeout-seconds S] [--json]   (collect the result of a job this machine submitted)',
  ].join('\n'),
  options: {
    ...keyOptions,
    licence: { type: 'string' },
    'deadline-seconds': { type: 'string' },
    'timeout-seconds': { type: 'string' },
  },
  async run(ctx) {
    if (ctx.args[0] === 'result') return collect(ctx)
    const query = ctx.args.at(-1)
    const targets = ctx.args.slice(0, -1).map((a) => /^([1-9][0-9]*)(?::([a-z][a-z0-9_]{0,31}))?$/.exec(a))
    if (!query || targets.length === 0 || targets.some((t) => !t))
      throw new CliError(EXIT.usage, 'give the asset id (or several as id:table) and one quoted SQL query')
    const assets = targets.map((t) => ({ tokenId: t![1], table: t![2] }))
    if (assets.length > 1 && assets.some((a) => !a.table))
      throw new CliError(EXIT.usage, 'with several assets, bind each to a table name: 3:crm 5:shop')
    if (assets.length > 1 && ctx.flags.licence)
      throw new CliError(
        EXIT.usage,
        '--licence picks the licence of a single asset; with several, the first usable one of each is used',
      )
    const deadlineSeconds = Number(ctx.flags['deadline-seconds'] ?? 900)
    if (!Number.isInteger(deadlineSeconds) || deadlineSeconds < 10)
      throw new CliError(EXIT.usage, '--deadline-seconds must be an integer ≥ 10')
    const limit = timeoutMs(ctx)
    const wallet = await signer(ctx)
    const client = api(ctx)
    const home = configDir(ctx)
    const spin = spinner(ctx)
    const stop = interruption()
    /** Set once the job's result key is stored: from then on a failure leaves a job to collect. */
    let jobId: string | undefined
    let accepted = false
    let outcome: JobOutcome
    try {
      spin.set('finding your licence…')
      const chain = await client.request<ChainInfo>('/chain')
      const provider = wallet.provider!
      const nft = new Contract(chain.contracts.DataAssetNFT, dataAssetNftAbi, provider)
      const parts = []
      for (const a of assets) {
        const [, contentHash] = (await nft.assetInfo(a.tokenId).catch(() => {
          throw new CliError(EXIT.rejected, `asset #${a.tokenId} does not exist`)
        })) as [string, string]
        const licences = await findLicences(
          provider,
          chain.contracts.DataMarket,
          wallet.address,
          a.tokenId,
          chain.deployedAtBlock,
        )
        const licence = pickLicence(licences, ctx.flags.licence as string | undefined, a.tokenId)
        parts.push({ licenceId: licence.licenceId, contentHash, table: a.table ?? 'data' })
      }
      spin.set(`signing the job request under licence ${parts.map((p) => `#${p.licenceId}`).join(', ')}…`)
      outcome = await stop.race(
        runComputeJob({
          api: client,
          signer: wallet,
          market: { chainId: chain.chainId, dataMarket: chain.contracts.DataMarket },
          computeLedger: chain.contracts.ComputeLedger,
          ...(parts.length > 1 ? { parts } : { licenceId: parts[0].licenceId, contentHash: parts[0].contentHash }),
          query,
          deadline: Math.floor(Date.now() / 1000) + deadlineSeconds,
          timeoutMs: limit,
          signal: stop.signal,
          beforeSubmit: (pending) => {
            try {
              saveResultKey(home, {
                jobId: pending.jobId,
                secretKey: `0x${Buffer.from(pending.resultKey.secretKey).toString('hex')}`,
                publicKey: pending.resultKey.publicKey,
                apiUrl: client.apiUrl,
                chainId: chain.chainId,
                computeLedger: chain.contracts.ComputeLedger,
                deadline: pending.deadline,
                createdAt: Math.floor(Date.now() / 1000),
              })
            } catch (cause) {
              throw new CliError(
                EXIT.failure,
                `could not store the job's result key under ${home} (${(cause as Error).message}); nothing was submitted`,
              )
            }
            jobId = pending.jobId
            stop.arm()
          },
          onSubmitted: (j) => {
            accepted = true
            spin.note(
              `job ${j.jobId} submitted; if you stop waiting, it carries on: collect its result with ${collectCommand(j.jobId)}`,
            )
            spin.set(`job ${j.jobId.slice(0, 10)}… queued`)
          },
          onStatus: (j) => spin.set(`job ${j.jobId.slice(0, 10)}… ${j.status}`),
        }),
      )
    } catch (err) {
      spin.stop()
      if (jobId === undefined) asCliError(err)
      throw jobFailure(home, jobId, err, { accepted, apiUrl: client.apiUrl })
    } finally {
      stop.disarm()
    }
    spin.stop()
    // The key stays: `job result` opens the result again while the marketplace keeps it (its retention).
    return present(ctx, outcome)
  },
}
