// The client side of the publish benchmark, in a process of its own as a data owner's would be: the
// benchmark's parent process hosts the stack's orchestration (and its heap), which a user's client
// never shares. Measures, in this one process and run, the baseline (raw node:crypto AES-256-GCM +
// SHA-256 over the file) and the subject (the client library's publish until the worker has accepted
// the stored ciphertext), and prints one JSON line.
//   node --import tsx bench/support/publish-client.ts <apiUrl> <rpcUrl> <file> <devAccount> <upload mode>
import { createCipheriv, createHash, randomBytes } from 'node:crypto'
import { JsonRpcProvider } from 'ethers'
import { devWallet } from '../../scripts/stack'
import { ApiClient, publish, type PublishOptions } from '../../sdk/src/index'
import { fileSource, nodeBackends } from '../../sdk/src/node/index'

const MIB = 1024 * 1024
const [apiUrl, rpcUrl, file, account, mode] = process.argv.slice(2)

/** Raw node:crypto AES-256-GCM + SHA-256 over the file, read the same way the client reads it. */
async function baselineMs(): Promise<number> {
  const start = performance.now()
  const cipher = createCipheriv('aes-256-gcm', randomBytes(32), randomBytes(12))
  const hash = createHash('sha256')
  for await (const chunk of fileSource(file).open() as AsyncIterable<Uint8Array>) {
    hash.update(chunk)
    cipher.update(chunk)
  }
  cipher.final()
  hash.digest()
  return performance.now() - start
}

const provider = new JsonRpcProvider(rpcUrl, 31337, { staticNetwork: true, batchMaxCount: 1 })
const size = fileSource(file).size
const baseline = Math.min(await baselineMs(), await baselineMs())
let storedAt = 0
let signingAt = 0
const start = performance.now()
const result = await publish({
  api: new ApiClient({ apiUrl }),
  signer: devWallet(Number(account), provider),
  source: fileSource(file),
  format: 'csv',
  declaration: { name: 'bench', lawfulBasis: { basis: 'owned', statement: 'bench', personalData: false } },
  enclave: { rpcUrl },
  upload: mode as PublishOptions['upload'],
  ...nodeBackends,
  onProgress: (e) => {
    if (e.phase === 'signing' && !signingAt) signingAt = performance.now()
    if (e.phase === 'ingesting') storedAt = performance.now()
  },
})
const done = performance.now()
provider.destroy()
process.stdout.write(
  JSON.stringify({
    baselineMiBps: size / MIB / (baseline / 1000),
    subjectMiBps: size / MIB / ((storedAt - start) / 1000),
    // One pass: until the manifest is signed = attest + intent + the single encrypt/hash/upload pass.
    // Two passes: until the manifest is signed = attest + pass 1.
    untilSignedMs: Math.round(signingAt - start),
    signedToStoredMs: Math.round(storedAt - signingAt),
    ingestAndMintMs: Math.round(done - storedAt),
    tokenId: result.tokenId,
  }) + '\n',
)
