// Public door of the embedded IPFS node: start it, get its two URLs, close it.
//
// The node speaks the Kubo RPC subset Stillflow uses and a trustless gateway, over blocks kept
// in pack files in a local repo. It never touches the network beyond its two listeners.

import type { Server } from 'node:http'
import { join } from 'node:path'
import type { Handler, NodeContext } from './http/context'
import { gateway } from './http/gateway'
import { SPENT_TICKETS_FILE, SpentTickets, upload } from './http/upload'
import { rpc } from './http/rpc'
import { listen, serve, shutdown, urlOf } from './http/server'
import { discardBlocks } from './repo/pack-file'
import { openRepo } from './repo/repo'
import { FileImporter } from './unixfs/file-importer'
import { kuboDefaults } from './unixfs/kubo-layout'

export {
  BlockNotFoundError,
  InvalidArgumentError,
  IpfsError,
  PinStateError,
  PortInUseError,
  RepoLockedError,
  UploadTooLargeError,
} from './errors'
export { importerOptions as kuboImporterOptions, kuboDefaults, type LayoutSettings } from './unixfs/kubo-layout'
export {
  openUploadTicket,
  parseTicketKey,
  signUploadTicket,
  UploadTicketError,
  type UploadTicket,
} from './upload-ticket'

/**
 * The CID `ipfs add --cid-version 1` gives `content` (raw leaves, 256 KiB chunks, balanced DAG), computed
 * without storing a block, with the node's own importer (node:crypto hashing, no per-block promises).
 * For Node clients that must know a ciphertext's CID before uploading it; portable code uses the SDK's
 * `kuboCidV1`, which gives the same CID.
 */
export async function cidOfStream(content: AsyncIterable<Uint8Array>): Promise<string> {
  const importer = new FileImporter(discardBlocks, kuboDefaults(1))
  for await (const chunk of content) {
    const wait = importer.write(chunk)
    if (wait) await wait
  }
  return (await importer.end()).cid.toString()
}

/** A day: far beyond the hour an upload may wait for its owner's Publish signature. */
export const DEFAULT_GC_GRACE_SECONDS = 24 * 60 * 60

function nonNegative(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`)
  return value
}

/** 2 GiB: enough for the 1 GiB uploads the product must accept, with room to spare. */
export const DEFAULT_MAX_UPLOAD_BYTES = 2 * 1024 ** 3

export interface IpfsNodeOptions {
  /** Directory of the repo (created when missing), e.g. `.data/ipfs`. */
  repo: string
  /** Interface to listen on. Default 127.0.0.1: the RPC API has no authentication. */
  host?: string
  /** RPC API port; 0 picks a free one. */
  apiPort: number
  /** Gateway port; 0 picks a free one. */
  gatewayPort: number
  /** Largest accepted `add` request body, in bytes. Default `DEFAULT_MAX_UPLOAD_BYTES`. */
  maxUploadBytes?: number
  /**
   * The secret the marketplace signs upload tickets with. When set, the gateway listener also accepts
   * `PUT /upload` with a ticket (http/upload.ts): the one write path open to clients, for ciphertext
   * too large to pass through the worker. Unset: the gateway stays read-only.
   */
  uploadTicketKey?: Uint8Array
  /**
   * Garbage collection (repo/gc.ts) keeps packs written less than this many seconds ago, whether or not
   * a pin reaches them: an upload waits unpinned for its owner's signature. Default one day.
   */
  gcGraceSeconds?: number
  /** Collect garbage this often, in seconds (and on demand through `repo/gc`). Default 0: only on demand. */
  gcIntervalSeconds?: number
  /** Receives failures that are not the client's fault. Default: one line on stderr. */
  log?: (err: unknown) => void
}

export interface IpfsNode {
  /** e.g. `http://127.0.0.1:5001`; give it to kubo-rpc-client's `create({ url })`. */
  apiUrl: string
  /** e.g. `http://127.0.0.1:8080`; content is at `${gatewayUrl}/ipfs/<cid>`. */
  gatewayUrl: string
  close(): Promise<void>
}

/**
 * Opens the repo and starts the RPC API and the gateway.
 *
 * @example
 * const node = await startIpfsNode({ repo: '.data/ipfs', apiPort: 0, gatewayPort: 0 })
 * const ipfs = create({ url: node.apiUrl }) // kubo-rpc-client
 * const { cid } = await ipfs.add(bytes, { cidVersion: 1 })
 * await node.close()
 *
 * @throws PortInUseError when a port is taken (nothing is left listening), RepoLockedError when
 *   another live process owns the repo.
 */
export async function startIpfsNode(opts: IpfsNodeOptions): Promise<IpfsNode> {
  const host = opts.host ?? '127.0.0.1'
  const maxUploadBytes = opts.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES
  nonNegative('maxUploadBytes', maxUploadBytes)
  const gcGraceSeconds = nonNegative('gcGraceSeconds', opts.gcGraceSeconds ?? DEFAULT_GC_GRACE_SECONDS)
  const gcIntervalSeconds = nonNegative('gcIntervalSeconds', opts.gcIntervalSeconds ?? 0)
  const repo = await openRepo(opts.repo)
  const ctx: NodeContext = {
    repo,
    maxUploadBytes,
    gcGraceMs: gcGraceSeconds * 1000,
    log: opts.log ?? ((err) => process.stderr.write(`ipfs: ${err instanceof Error ? err.stack : String(err)}\n`)),
  }
  const servers: Server[] = []
  let collecting: Promise<unknown> = Promise.resolve()
  const timer =
    gcIntervalSeconds > 0
      ? setInterval(() => {
          collecting = repo.gc({ graceMs: ctx.gcGraceMs }).catch(ctx.log)
        }, gcIntervalSeconds * 1000).unref()
      : undefined
  const close = async () => {
    clearInterval(timer)
    await Promise.all(servers.map(shutdown))
    await collecting
    await repo.close()
  }
  try {
    const api = serve(rpc, ctx)
    servers.push(api)
    const apiPort = await listen(api, 'api', host, opts.apiPort)
    const key = opts.uploadTicketKey
    const spent = key && (await SpentTickets.open(join(repo.path, SPENT_TICKETS_FILE), Math.floor(Date.now() / 1000)))
    const gatewayOrUpload: Handler = (req, res, url, c) =>
      key && spent && url.pathname === '/upload'
        ? upload(req, res, { ...c, ticketKey: key, spent })
        : gateway(req, res, url, c)
    const gw = serve(gatewayOrUpload, ctx)
    servers.push(gw)
    const gatewayPort = await listen(gw, 'gateway', host, opts.gatewayPort)
    let closing: Promise<void> | undefined
    return {
      apiUrl: urlOf(host, apiPort),
      gatewayUrl: urlOf(host, gatewayPort),
      close: () => (closing ??= close()),
    }
  } catch (err) {
    await close()
    throw err
  }
}
