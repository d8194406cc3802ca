// Opening an asset inside the enclave: unwrap the data key (HPKE, bound to chain/contract/content
// hash), stream-decrypt the chunked ciphertext with node:crypto, check the plaintext SHA-256 against
// the content hash, and parse — wiping the key and decrypted chunks as it goes.
import { createHash } from 'node:crypto'
import type { ByteSource } from '../byte-source'
import { bytesToHex, wipe, type Hex } from '../bytes'
import { decryptChunked } from '../chunked-aead'
import { ContentHashMismatchError } from '../errors'
import { unwrapDataKey, type DataKeyBinding } from '../key-release'
import { parseDataset, type ColumnSchema, type Dataset, type DatasetFormat, type DatasetLimits } from './dataset'
import { nodeChunkCipher } from './node-aead'

export interface OpenAssetInput {
  binding: DataKeyBinding
  wrappedKey: string
  clusterSecretKey: Uint8Array
  format: DatasetFormat
  ciphertext: ByteSource
  schema?: ColumnSchema[]
  limits?: Partial<DatasetLimits>
}

async function* hashing(source: AsyncIterable<Uint8Array>, onDone: (digest: Hex) => void): AsyncGenerator<Uint8Array> {
  const h = createHash('sha256')
  for await (const chunk of source) {
    h.update(chunk)
    yield chunk
  }
  onDone(bytesToHex(h.digest()))
}

/** Decrypts, verifies and parses an asset. Throws KeyUnwrapError, CiphertextIntegrityError, ContentHashMismatchError or DatasetFormatError. */
export async function openAsset(input: OpenAssetInput): Promise<Dataset> {
  const key = await unwrapDataKey(input.wrappedKey, input.clusterSecretKey, input.binding)
  let digest: Hex | undefined
  let data: Dataset | undefined
  try {
    data = await parseDataset(
      input.format,
      hashing(decryptChunked(key, input.ciphertext, { cipher: nodeChunkCipher }), (d) => (digest = d)),
      {
        schema: input.schema,
        limits: input.limits,
      },
    )
  } finally {
    wipe(key)
  }
  if (digest === undefined || digest !== input.binding.contentHash.toLowerCase()) {
    throw new ContentHashMismatchError('decrypted plaintext does not match the content hash', {
      details: digest ? `SHA-256 is ${digest}` : undefined,
    })
  }
  return data
}
