// The publish Web Worker: runs the client library's publish() off the page's thread — enclave check,
// chunked AES-256-GCM encryption while hashing (R1: plaintext never leaves the device), key wrapping,
// upload — and reports progress. The signature is the page's wallet's, asked for by message.
import type { Signer } from 'ethers'
import { ApiClient, publish } from '../../../../sdk/src/index'
import { iterateBytes } from '../../../../tee-sim/src/index'
import { DescribedError, explainError } from '../../wallet/errors'
import type { FromWorker, SignReply, StartMessage, ToWorker } from './protocol'

const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m)
const waiting = new Map<number, { resolve: (s: string) => void; reject: (e: Error) => void }>()
let nextId = 1

/**
 * Chrome streams request bodies only over HTTP/2, and a local worker speaks HTTP/1.1: the encrypted
 * stream is gathered into a Blob (which Chrome may keep on disk) and sent with its length.
 */
const blobFetch: typeof fetch = async (input, init) => {
  if (init?.body instanceof ReadableStream) {
    const blob = await new Response(init.body).blob()
    const { duplex: _duplex, ...rest } = init as RequestInit & { duplex?: string }
    return fetch(input, { ...rest, body: blob })
  }
  return fetch(input, init)
}

/** A File as the publish source: read from the start on each pass, chunk by chunk. */
const fileSource = (file: File) => ({ size: file.size, open: () => iterateBytes(file.stream()) })

async function run(msg: StartMessage) {
  const signer = {
    getAddress: async () => msg.owner,
    signTypedData: (domain: Record<string, unknown>, types: Record<string, unknown>, value: Record<string, unknown>) =>
      new Promise<string>((resolve, reject) => {
        const id = nextId++
        waiting.set(id, { resolve, reject })
        post({ type: 'sign', id, domain, types, value })
      }),
  } as unknown as Signer
  try {
    const result = await publish({
      api: new ApiClient({ apiUrl: msg.apiUrl, fetch: blobFetch }),
      // The direct upload's PUT to IPFS's uploader streams too, so it needs the same Blob fetch.
      fetch: blobFetch,
      signer,
      source: fileSource(msg.file),
      format: msg.format,
      declaration: msg.declaration,
      enclave: { trusted: msg.trusted },
      onProgress: (progress) => post({ type: 'progress', progress }),
    })
    post({ type: 'done', result })
  } catch (err) {
    post({ type: 'failed', ...explainError(err) })
  }
}

self.addEventListener('message', (e: MessageEvent<ToWorker>) => {
  const msg = e.data
  if (msg.type === 'start') void run(msg)
  else {
    const w = waiting.get(msg.id)
    waiting.delete(msg.id)
    if (msg.type === 'signed') w?.resolve(msg.signature)
    else w?.reject(new DescribedError(msg.message, msg.reference))
  }
})
