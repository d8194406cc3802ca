// The worker's one adapter to IPFS: the Kubo RPC protocol through kubo-rpc-client, so IPFS_API_URL can
// name the embedded node, a Kubo daemon or a pinning service without a code change.
import { create, type KuboRPCClient } from 'kubo-rpc-client'
import type { Bindings } from '../env'
import { reaching, requireSetting } from './config'

export function ipfsClient(env: Bindings): KuboRPCClient {
  // workerd's nodejs_compat has no http.Agent constructor; an empty agent makes the client use fetch.
  return create({ url: `${requireSetting(env, 'IPFS_API_URL')}/api/v0`, agent: {} as never })
}

export interface IpfsStatus {
  version: string
  repoSize: number
  numObjects: number
}

export async function ipfsStatus(env: Bindings): Promise<IpfsStatus> {
  const ipfs = ipfsClient(env)
  const url = requireSetting(env, 'IPFS_API_URL')
  const [version, repo] = await reaching('the IPFS API', url, () => Promise.all([ipfs.version(), ipfs.repo.stat()]))
  return { version: version.version, repoSize: Number(repo.repoSize), numObjects: Number(repo.numObjects) }
}
