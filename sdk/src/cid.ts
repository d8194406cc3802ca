// The CID Kubo (and the embedded node) gives a byte stream with `ipfs add --cid-version 1` (raw leaves,
// 256 KiB chunks, balanced DAG of 174 links), computed locally without storing any block, so the owner
// signs the ciphertext's CID before a byte is uploaded and the worker can hold IPFS to it.
import { importByteStream } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

const discard = { put: async (cid: CID) => cid }

export async function kuboCidV1(content: AsyncIterable<Uint8Array>): Promise<string> {
  const { cid } = await importByteStream(content, discard, {
    cidVersion: 1,
    rawLeaves: true,
    reduceSingleLeafToSelf: true,
    chunker: fixedSize({ chunkSize: 262_144 }),
    layout: balanced({ maxChildrenPerNode: 174 }),
  })
  return cid.toString()
}

/** CIDv1 of one raw block: what a ≤ 256 KiB `add --cid-version 1` gives, and how a digest is looked up. */
export async function rawBlockCid(bytes: Uint8Array): Promise<string> {
  return CID.create(1, raw.code, await sha256.digest(bytes)).toString()
}

/** The raw-block CID of a SHA-256 digest (0x hex), e.g. an asset's on-chain metadata digest. */
export function rawCidOfDigest(digestHex: string): string {
  const digest = Uint8Array.from(digestHex.slice(2).match(/../g) ?? [], (h) => parseInt(h, 16))
  return CID.create(1, raw.code, {
    code: sha256.code,
    size: 32,
    digest,
    bytes: new Uint8Array([0x12, 0x20, ...digest]),
  }).toString()
}
