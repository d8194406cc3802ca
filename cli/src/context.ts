// Where the CLI's settings come from (flags, then environment, then the saved session) and how it gets a
// signing key. Keys are read when needed and never written anywhere by the CLI.
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { HDNodeWallet, JsonRpcProvider, Mnemonic, Wallet } from 'ethers'
import { ApiClient, ApiRequestError, InsufficientFundsError } from '../../sdk/src/index'
import type { CommandContext } from './command'
import { CliError, EXIT } from './exit-codes'
import { writePrivateJson } from './private-file'

/** Hardhat's public development mnemonic: its accounts exist only on local chains (chain id 31337). */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk'

export interface Session {
  apiUrl: string
  address: string
  token: string
  expiresAt: string
}

export const keyOptions = {
  api: { type: 'string' },
  rpc: { type: 'string' },
  'key-file': { type: 'string' },
  'dev-account': { type: 'string' },
} as const

export function apiUrl(ctx: CommandContext): string {
  return String(
    ctx.flags.api ?? ctx.env.STILLFLOW_API ?? readSession(ctx)?.apiUrl ?? 'http://127.0.0.1:8787/api',
  ).replace(/\/+$/, '')
}

export function rpcUrl(ctx: CommandContext): string {
  return String(ctx.flags.rpc ?? ctx.env.STILLFLOW_RPC ?? 'http://127.0.0.1:8545')
}

/** The CLI's own directory (session, result keys): STILLFLOW_HOME, default ~/.config/stillflow. */
export function configDir(ctx: CommandContext): string {
  return ctx.env.STILLFLOW_HOME ?? join(homedir(), '.config', 'stillflow')
}

export function readSession(ctx: CommandContext): Session | undefined {
  const file = join(configDir(ctx), 'session.json')
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Session
  } catch {
    return undefined
  }
}

export function saveSession(ctx: CommandContext, session: Session): void {
  writePrivateJson(join(configDir(ctx), 'session.json'), session)
}

export function clearSession(ctx: CommandContext): void {
  rmSync(join(configDir(ctx), 'session.json'), { force: true })
}

/** An API URL as compared: URL-normalised (host case, default port) without trailing slashes. */
function sameApi(a: string, b: string): boolean {
  const norm = (u: string) => {
    try {
      return new URL(u).href.replace(/\/+$/, '')
    } catch {
      return u.replace(/\/+$/, '')
    }
  }
  return norm(a) === norm(b)
}

/**
 * The saved session, only when it was made with the API this command talks to: its bearer token is a
 * credential for that API alone, never sent to another one a flag or STILLFLOW_API names. Exits 4
 * (`auth`) when there is none for it, saying how to sign in there.
 */
export function requireSession(ctx: CommandContext): Session {
  const session = readSession(ctx)
  const url = apiUrl(ctx)
  if (!session) throw new CliError(EXIT.auth, 'not signed in: run stillflow login')
  if (!sameApi(session.apiUrl, url))
    throw new CliError(
      EXIT.auth,
      `signed in to ${session.apiUrl}, not to ${url}: run stillflow login --api ${url} (the session is not sent to another API)`,
    )
  return session
}

/** A client for the API; `session` (from requireSession) signs its requests in. */
export function api(ctx: CommandContext, session?: Session): ApiClient {
  return new ApiClient({ apiUrl: apiUrl(ctx), sessionToken: session?.token })
}

/**
 * The signing key: --key-file (a file holding a 0x private key), STILLFLOW_PRIVATE_KEY, or --dev-account N
 * (a hardhat development account, refused unless the chain is the local 31337).
 */
export async function signer(ctx: CommandContext): Promise<Wallet | HDNodeWallet> {
  const provider = new JsonRpcProvider(rpcUrl(ctx), undefined, { staticNetwork: true, batchMaxCount: 1 })
  const keyFile = ctx.flags['key-file']
  const envKey = ctx.env.STILLFLOW_PRIVATE_KEY
  const dev = ctx.flags['dev-account'] ?? ctx.env.STILLFLOW_DEV_ACCOUNT
  if (typeof keyFile === 'string') {
    let key: string
    try {
      key = readFileSync(keyFile, 'utf8').trim()
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      throw new CliError(
        EXIT.usage,
        `cannot read --key-file ${keyFile}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? 'unreadable')}`,
      )
    }
    warnIfShared(ctx, keyFile)
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(key))
      throw new CliError(EXIT.usage, `${keyFile} does not hold a 32-byte hex private key`)
    return new Wallet(key.startsWith('0x') ? key : `0x${key}`, provider)
  }
  if (envKey) {
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(envKey))
      throw new CliError(EXIT.usage, 'STILLFLOW_PRIVATE_KEY is not a 32-byte hex private key')
    return new Wallet(envKey.startsWith('0x') ? envKey : `0x${envKey}`, provider)
  }
  if (dev !== undefined) {
    const index = Number(dev)
    if (!Number.isInteger(index) || index < 0 || index > 19) throw new CliError(EXIT.usage, '--dev-account takes 0–19')
    // getNetwork, not send: send waits for the provider to start, which retries an unreachable URL forever.
    const chainId = Number(
      await provider.getNetwork().then(
        (n) => n.chainId,
        () => 0,
      ),
    )
    if (!chainId)
      throw new CliError(EXIT.failure, `the chain at ${rpcUrl(ctx)} could not be reached (--rpc, STILLFLOW_RPC)`)
    if (chainId !== 31337)
      throw new CliError(EXIT.usage, `development accounts exist only on the local chain 31337 (this is ${chainId})`)
    return HDNodeWallet.fromMnemonic(Mnemonic.fromPhrase(DEV_MNEMONIC), `m/44'/60'/0'/0/${index}`).connect(provider)
  }
  throw new CliError(
    EXIT.usage,
    'no key: use --key-file FILE, STILLFLOW_PRIVATE_KEY, or --dev-account N on the local chain',
  )
}

/**
 * A key file others on the machine can read is a key they hold too: said once on stderr (as ssh refuses a
 * private key with loose permissions; a warning here, since the key may be a throwaway test key).
 */
function warnIfShared(ctx: CommandContext, file: string): void {
  try {
    const mode = statSync(file).mode
    if (mode & 0o077)
      ctx.stderr.write(
        `stillflow: warning: ${file} can be read by other users (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}\n`,
      )
  } catch {
    // read a moment ago; nothing to say
  }
}

/** An API refusal (or any failure) as the CliError whose exit code scripts can branch on. */
export function toCliError(err: unknown): CliError {
  if (err instanceof ApiRequestError) {
    const code = err.status === 401 ? EXIT.auth : err.status >= 400 && err.status < 500 ? EXIT.rejected : EXIT.failure
    return new CliError(code, `${err.shortMessage} (${err.code})`, err.body)
  }
  if (err instanceof CliError) return err
  // The wallet's holder has to fund it, like any refusal: nothing was sent.
  if (err instanceof InsufficientFundsError) return new CliError(EXIT.rejected, err.shortMessage)
  return new CliError(
    EXIT.failure,
    (err as { shortMessage?: string }).shortMessage ?? (err as Error).message ?? String(err),
  )
}

/** Ends the command with `err` as a CliError (see toCliError). */
export function asCliError(err: unknown): never {
  throw toCliError(err)
}
