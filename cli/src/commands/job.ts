// `stillflow job <asset> "<sql>"`: run a query under the caller's licence (DESIGN §3 "Compute job"). A
// fresh result key per job, the JobRequest signed by the licence holder, a spinner while the enclave
// works, then the result verified against its receipt and decrypted here — the only place it is plaintext.
// Several assets (R67, possibly of different owners): `stillflow job 3:crm 5:shop "SELECT COUNT(*) FROM crm
// JOIN shop ON crm.id = shop.id"` — each asset under one of the caller's licences, bound to a table name.
import { Contract } from 'ethers'
import { dataAssetNftAbi } from '../../../contracts/index'
import {
  JobNotSucceededError,
  findLicences,
  runComputeJob,
  type JobOutcome,
  type LicenceState,
} from '../../../sdk/src/index'
import type { Command, CommandContext } from '../command'
import { api, asCliError, keyOptions, signer } from '../context'
import { CliError, EXIT } from '../exit-codes'

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
    stop() {
      if (timer) {
        clearInterval(timer)
        ctx.stderr.write('\r\x1b[K')
      }
    },
  }
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
  usage:
    'stillflow job <asset>[:table] [<asset>:table …] "<sql>" [--licence N] [--deadline-seconds S] [--key-file FILE | --dev-account N] [--json]',
  options: { ...keyOptions, licence: { type: 'string' }, 'deadline-seconds': { type: 'string' } },
  async run(ctx) {
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
    const tokenId = assets[0].tokenId
    const deadlineSeconds = Number(ctx.flags['deadline-seconds'] ?? 900)
    if (!Number.isInteger(deadlineSeconds) || deadlineSeconds < 10)
      throw new CliError(EXIT.usage, '--deadline-seconds must be an integer ≥ 10')
    const wallet = await signer(ctx)
    const client = api(ctx)
    const spin = spinner(ctx)
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
      outcome = await runComputeJob({
        api: client,
        signer: wallet,
        market: { chainId: chain.chainId, dataMarket: chain.contracts.DataMarket },
        computeLedger: chain.contracts.ComputeLedger,
        ...(parts.length > 1 ? { parts } : { licenceId: parts[0].licenceId, contentHash: parts[0].contentHash }),
        query,
        deadline: Math.floor(Date.now() / 1000) + deadlineSeconds,
        onSubmitted: (j) => spin.set(`job ${j.jobId.slice(0, 10)}… queued`),
        onStatus: (j) => spin.set(`job ${j.jobId.slice(0, 10)}… ${j.status}`),
      })
    } catch (err) {
      spin.stop()
      if (err instanceof JobNotSucceededError)
        throw new CliError(EXIT.rejected, `job ${err.job.status}: ${err.shortMessage} (${err.code})`, err.job)
      asCliError(err)
    }
    spin.stop()
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
      ctx.stderr.write(`job ${jobId}: ${spent} (${result.privacy.mode}); receipt tx ${txHash}\n`)
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
  },
}
