// `stillflow psi create|join|run`: the party side of a private set intersection through a worker session
// (R55): consent by signature, the party's secret never leaves this process, progress on stderr.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { isAddress } from 'ethers'
import { ApiClient } from '../../../sdk/src/api'
import {
  fromHex,
  loadPsiEngine,
  PsiCommitmentMismatchError,
  PsiSessionClient,
  PsiSessionError,
  readPsiCommitment,
  toHex,
  verifyPsiCommitment,
  type PsiRole,
  type PsiTranscript,
  type TransportKeyPair,
} from '../../../sdk/src/psi/index'
import type { Command, CommandContext } from '../command'
import { apiUrl, configDir, keyOptions, rpcUrl, signer } from '../context'
import { CliError, EXIT } from '../exit-codes'
import { writePrivateJson } from '../private-file'

const USAGE = [
  'stillflow psi create --peer ADDRESS [--role A|B] [--max N] [--ttl SECONDS] [--chain-id ID] KEY',
  '       stillflow psi join SESSION_ID [--role A|B] KEY',
  '       stillflow psi run SESSION_ID --input FILE [--column NAME] [--out FILE] [--timeout SECONDS] [--rpc URL] KEY',
  '',
  'KEY: --key-file FILE | --dev-account N (or STILLFLOW_PRIVATE_KEY): each party signs with its own account.',
  '--input: UTF-8; with --column NAME, a CSV whose header names that column; without it, one identifier per',
  'line, every line counted (a header line too). Identifiers are trimmed and compared in Unicode NFC, exactly:',
  'case, full-width digits and invisible characters all count.',
].join('\n')

/**
 * The identifiers to intersect: a CSV column (by header name) or, without --column, one per line. The
 * file must be UTF-8 (a byte-order mark is dropped): read leniently, every name of a GBK export became the
 * same run of U+FFFD, and the two parties' garbled names would "match". Each identifier is compared in
 * NFC, so José typed on a Mac (NFD) meets José typed elsewhere.
 */
export function readItems(file: string, column?: string): string[] {
  if (!existsSync(file)) throw new CliError(EXIT.usage, `no such file: ${file}`)
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(file))
  } catch {
    throw new CliError(EXIT.usage, `${file} is not UTF-8 text; save it as UTF-8 (Excel: "CSV UTF-8")`)
  }
  const items = column === undefined ? text.split(/\r?\n/).map((l) => l.trim()) : readColumn(file, text, column)
  const ids = items.filter((v) => v !== undefined && v !== '').map((v) => v.normalize('NFC'))
  // An empty list would run the whole protocol only to tell the peer its size and commit 0.
  if (ids.length === 0) throw new CliError(EXIT.usage, `${file} holds no identifiers`)
  return ids
}

function readColumn(file: string, text: string, column: string): string[] {
  let rows: Record<string, string>[]
  try {
    rows = parse(text, { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[]
  } catch (err) {
    // csv-parse's messages name the record ("… on line 3"); the file is the caller's to fix.
    throw new CliError(EXIT.usage, `${file} is not valid CSV: ${(err as Error).message}`)
  }
  if (rows.length > 0 && !(column in rows[0]))
    throw new CliError(EXIT.usage, `${file} has no column "${column}" (columns: ${Object.keys(rows[0]).join(', ')})`)
  return rows.map((r) => r[column])
}

interface PartyState {
  sessionId: string
  role: PsiRole
  api: string
  transport: { secretKey: string; publicKey: string }
}

const stateFile = (ctx: CommandContext, sessionId: string) =>
  join(configDir(ctx), 'psi', `${sessionId.toLowerCase()}.json`)

/** The session's transport secret is kept (0600) between create/join and run; the PSI secret is never stored. */
function saveState(ctx: CommandContext, s: PartyState) {
  writePrivateJson(stateFile(ctx, s.sessionId), s)
}

function loadState(ctx: CommandContext, sessionId: string): PartyState {
  const file = stateFile(ctx, sessionId)
  if (!existsSync(file))
    throw new CliError(EXIT.usage, `no local state for session ${sessionId}: create or join it first`)
  return JSON.parse(readFileSync(file, 'utf8')) as PartyState
}

function role(ctx: CommandContext, fallback: PsiRole): PsiRole {
  const r = (ctx.flags.role as string | undefined) ?? fallback
  if (r !== 'A' && r !== 'B') throw new CliError(EXIT.usage, '--role must be A or B')
  return r
}

function int(ctx: CommandContext, name: string, fallback: number): number {
  const raw = ctx.flags[name]
  const n = raw === undefined ? fallback : Number(raw)
  if (!Number.isSafeInteger(n) || n <= 0) throw new CliError(EXIT.usage, `--${name} must be a positive integer`)
  return n
}

function sessionArg(ctx: CommandContext): string {
  const id = ctx.args[1]
  if (!id || !/^0x[0-9a-fA-F]{64}$/.test(id))
    throw new CliError(EXIT.usage, `a SESSION_ID (0x + 64 hex) is required\n${USAGE}`)
  return id
}

function refused(err: unknown): never {
  if (err instanceof PsiSessionError)
    throw new CliError(
      err.status === 401 || err.status === 403 ? EXIT.auth : err.status < 500 ? EXIT.rejected : EXIT.failure,
      `${err.message} (${err.code})`,
    )
  throw err
}

/**
 * After the intersection: waits for the worker to commit the transcript, reads the commitment from the
 * chain through our own RPC (--rpc), and checks it against the transcript we computed ourselves.
 */
async function checkOnChain(
  ctx: CommandContext,
  client: PsiSessionClient,
  api: string,
  transcript: PsiTranscript,
  timeoutS: number | undefined,
) {
  const commit = await client.waitForCommit(transcript.sessionId, { timeoutS: timeoutS ?? 120 }).catch(refused)
  if (commit.status !== 'committed')
    throw new CliError(EXIT.failure, `the transcript was not committed on chain: ${commit.error ?? commit.status}`)
  const book = await new ApiClient({ apiUrl: api }).request<{ chainId: number; contracts: Record<string, string> }>(
    '/chain',
  )
  const ledger = book.contracts.ComputeLedger
  if (!ledger) throw new CliError(EXIT.failure, 'the API names no ComputeLedger contract')
  const onChain = await readPsiCommitment({
    rpcUrl: rpcUrl(ctx),
    chainId: transcript.chainId,
    ledger,
    sessionId: transcript.sessionId,
  })
  try {
    verifyPsiCommitment(transcript, onChain)
  } catch (err) {
    if (err instanceof PsiCommitmentMismatchError) throw new CliError(EXIT.failure, err.message)
    throw err
  }
  return { ...commit, ledger, transcriptHash: onChain.transcriptHash, intersectionSize: onChain.intersectionSize }
}

const keyPair = (t: TransportKeyPair) => ({ secretKey: toHex(t.secretKey), publicKey: toHex(t.publicKey) })

export const psiCommand: Command = {
  name: 'psi',
  summary: 'private set intersection with another data owner (create | join | run)',
  usage: USAGE,
  options: {
    ...keyOptions,
    peer: { type: 'string' },
    role: { type: 'string' },
    max: { type: 'string' },
    ttl: { type: 'string' },
    'chain-id': { type: 'string' },
    input: { type: 'string' },
    column: { type: 'string' },
    out: { type: 'string' },
    timeout: { type: 'string' },
  },
  async run(ctx) {
    const sub = ctx.args[0]
    const api = apiUrl(ctx)
    const say = (line: string) => {
      if (!ctx.json) ctx.stderr.write(line + '\n')
    }
    if (sub === 'create') {
      const peer = ctx.flags.peer
      if (typeof peer !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(peer))
        throw new CliError(EXIT.usage, '--peer ADDRESS is required')
      // Mixed case is an EIP-55 checksum: a wrong one is a typo in the peer's address.
      if (!isAddress(peer))
        throw new CliError(
          EXIT.usage,
          `--peer ${peer} has a wrong EIP-55 checksum: check the address, or give it in lowercase`,
        )
      const r = role(ctx, 'A')
      const wallet = await signer(ctx)
      const client = new PsiSessionClient({ api, signer: wallet })
      const me = wallet.address
      const sessionId = client.newSessionId()
      const chainId = int(ctx, 'chain-id', Number(ctx.env.STILLFLOW_CHAIN_ID ?? 31337))
      const { session, transport } = await client
        .create({
          sessionId,
          chainId,
          partyA: r === 'A' ? me : peer,
          partyB: r === 'A' ? peer : me,
          maxElements: int(ctx, 'max', 100_000),
          expiresAt: Math.floor(Date.now() / 1000) + int(ctx, 'ttl', 3600),
          role: r,
        })
        .catch(refused)
      saveState(ctx, { sessionId, role: r, api, transport: keyPair(transport) })
      if (!ctx.json) ctx.stdout.write(`${sessionId}\n`)
      say(`session created; you are party ${r}. Give the id to ${peer}: stillflow psi join ${sessionId}`)
      return { sessionId, role: r, session }
    }
    if (sub === 'join') {
      const sessionId = sessionArg(ctx)
      const wallet = await signer(ctx)
      const client = new PsiSessionClient({ api, signer: wallet })
      const info = await client.describe(sessionId).catch(refused)
      const r = role(ctx, info.partyA === wallet.address ? 'A' : 'B')
      const { session, transport } = await client.join(sessionId, r).catch(refused)
      saveState(ctx, { sessionId, role: r, api, transport: keyPair(transport) })
      say(
        `joined session ${sessionId} as party ${r} (up to ${session.maxElements} elements, until ${new Date(session.expiresAt * 1000).toISOString()})`,
      )
      return { sessionId, role: r, session }
    }
    if (sub === 'run') {
      const sessionId = sessionArg(ctx)
      const input = ctx.flags.input
      if (typeof input !== 'string') throw new CliError(EXIT.usage, '--input FILE is required')
      const items = readItems(input, ctx.flags.column as string | undefined)
      const state = loadState(ctx, sessionId)
      const wallet = await signer(ctx)
      const client = new PsiSessionClient({ api: state.api, signer: wallet })
      const engine = await loadPsiEngine()
      const timeoutS = ctx.flags.timeout === undefined ? undefined : int(ctx, 'timeout', 0)
      let last = 0
      const result = await client
        .run({
          sessionId,
          role: state.role,
          transport: { secretKey: fromHex(state.transport.secretKey), publicKey: fromHex(state.transport.publicKey) },
          items,
          engine,
          timeoutS,
          onProgress: (p) => {
            if (!ctx.interactive) return
            if (!('done' in p)) return void ctx.stderr.write(`\r${p.phase}…`.padEnd(60) + '\n')
            const now = Date.now()
            if (now - last < 100 && p.done < p.total) return
            last = now
            const pct = p.total ? Math.round((100 * p.done) / p.total) : 100
            ctx.stderr.write(`\r${p.phase.padEnd(15)} ${String(pct).padStart(3)}%  ${p.done}/${p.total}`)
            if (p.done === p.total) ctx.stderr.write('\n')
          },
        })
        .catch(refused)
      if (typeof ctx.flags.out === 'string')
        writeFileSync(ctx.flags.out, result.values.join('\n') + (result.values.length ? '\n' : ''))
      else if (!ctx.json) for (const v of result.values) ctx.stdout.write(v + '\n')
      say(`${result.values.length} of ${new Set(items).size} distinct ids are shared`)
      const commitment = await checkOnChain(ctx, client, state.api, result.transcript, timeoutS)
      say(
        `transcript ${commitment.transcriptHash} (intersection size ${commitment.intersectionSize}) committed on chain ` +
          `in tx ${commitment.txHash} (block ${commitment.blockNumber}); it matches this party's own transcript`,
      )
      return {
        sessionId,
        role: state.role,
        intersectionSize: result.intersectionSize,
        matched: result.values,
        transcriptHash: commitment.transcriptHash,
        // What this party hashed: anyone holding it can recompute the hash (psiTranscriptHash).
        transcript: result.transcript,
        commitment: { txHash: commitment.txHash, blockNumber: commitment.blockNumber, ledger: commitment.ledger },
      }
    }
    throw new CliError(EXIT.usage, `unknown subcommand ${sub ?? '(none)'}\n${USAGE}`)
  },
}
