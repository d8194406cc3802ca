// Command line for the embedded node, as `npm start` runs it:
//   node --import tsx ipfs/src/cli.ts --repo .data/ipfs --api-port 5001 --gateway-port 8080
//        [--host 127.0.0.1] [--max-upload-bytes N] [--gc-interval SECONDS] [--gc-grace SECONDS]
// With IPFS_UPLOAD_TICKET_KEY in the environment (a secret: never on the command line, where `ps` shows
// it), the gateway also accepts ticketed uploads at PUT /upload.
// Prints one JSON line {"api": …, "gateway": …} once both ports listen; stops on SIGINT/SIGTERM.

import { parseArgs } from 'node:util'
import { IpfsError, parseTicketKey, startIpfsNode } from './index'

function fail(message: string): never {
  process.stderr.write(`ipfs: ${message}\n`)
  process.exit(1)
}

function port(name: string, value: string | undefined): number {
  if (value === undefined) fail(`--${name} is required`)
  const n = Number(value)
  if (!/^\d+$/.test(value) || n > 65535) fail(`--${name} must be a port number (0-65535), got "${value}"`)
  return n
}

async function main(): Promise<void> {
  let values: Record<string, string | undefined>
  try {
    ;({ values } = parseArgs({
      options: {
        repo: { type: 'string' },
        host: { type: 'string' },
        'api-port': { type: 'string' },
        'gateway-port': { type: 'string' },
        'max-upload-bytes': { type: 'string' },
        'gc-interval': { type: 'string' },
        'gc-grace': { type: 'string' },
      },
      strict: true,
    }))
  } catch (err) {
    fail((err as Error).message)
  }
  if (!values.repo) fail('--repo is required')
  const count = (name: string): number | undefined => {
    const raw = values[name]
    if (raw !== undefined && !/^\d+$/.test(raw)) fail(`--${name} must be a non-negative integer, got "${raw}"`)
    return raw === undefined ? undefined : Number(raw)
  }

  let uploadTicketKey: Uint8Array | undefined
  const keyText = process.env.IPFS_UPLOAD_TICKET_KEY
  if (keyText) {
    try {
      uploadTicketKey = parseTicketKey(keyText)
    } catch (err) {
      fail(`IPFS_UPLOAD_TICKET_KEY: ${(err as Error).message}`)
    }
  }

  let node
  try {
    node = await startIpfsNode({
      repo: values.repo,
      host: values.host,
      apiPort: port('api-port', values['api-port']),
      gatewayPort: port('gateway-port', values['gateway-port']),
      maxUploadBytes: count('max-upload-bytes'),
      gcIntervalSeconds: count('gc-interval'),
      gcGraceSeconds: count('gc-grace'),
      uploadTicketKey,
    })
  } catch (err) {
    fail(err instanceof IpfsError ? err.shortMessage : String((err as Error).message ?? err))
  }
  process.stdout.write(JSON.stringify({ api: node.apiUrl, gateway: node.gatewayUrl }) + '\n')

  const stop = () => {
    node.close().then(
      () => process.exit(0),
      (err) => fail(`error while stopping: ${(err as Error).message}`),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

void main()
