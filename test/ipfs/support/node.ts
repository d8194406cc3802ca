// A node on free ports over a throwaway repo, for one test file.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { create, type KuboRPCClient } from 'kubo-rpc-client'
import { type IpfsNode, type IpfsNodeOptions, startIpfsNode } from '../../../ipfs/src/index'

export interface TestNode extends IpfsNode {
  repo: string
  client: KuboRPCClient
  /** POST to an RPC command, as Kubo requires. */
  rpc(command: string, query?: string, init?: RequestInit): Promise<Response>
  /** Stops the node; the repo stays until `destroy`. */
  stop(): Promise<void>
  /** Starts again on the same repo. */
  restart(): Promise<TestNode>
  destroy(): Promise<void>
}

export async function startTestNode(opts: Partial<IpfsNodeOptions> = {}, repo?: string): Promise<TestNode> {
  const dir = repo ?? (await mkdtemp(join(tmpdir(), 'stillflow-ipfs-test-')))
  const errors: unknown[] = []
  const node = await startIpfsNode({ repo: dir, apiPort: 0, gatewayPort: 0, log: (e) => errors.push(e), ...opts })
  const self: TestNode = {
    ...node,
    repo: dir,
    client: create({ url: node.apiUrl }),
    rpc: (command, query = '', init = {}) =>
      fetch(`${node.apiUrl}/api/v0/${command}${query ? `?${query}` : ''}`, { method: 'POST', ...init }),
    stop: () => node.close(),
    restart: async () => {
      await node.close()
      return startTestNode(opts, dir)
    },
    destroy: async () => {
      await node.close()
      await rm(dir, { recursive: true, force: true })
      // Anything logged is a server-side failure the tests did not ask for.
      if (errors.length > 0) throw new AggregateError(errors, `the node logged ${errors.length} internal error(s)`)
    },
  }
  return self
}

/** A multipart/form-data body by hand, for requests kubo-rpc-client would never send. */
export function multipart(
  boundary: string,
  parts: Array<{ headers: string[]; body: string | Uint8Array }>,
): Uint8Array<ArrayBuffer> {
  const chunks: Buffer[] = []
  for (const part of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n${part.headers.join('\r\n')}\r\n\r\n`))
    chunks.push(Buffer.from(part.body))
    chunks.push(Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  // A copy on its own ArrayBuffer: what fetch's BodyInit type accepts.
  const body = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0))
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body
}
