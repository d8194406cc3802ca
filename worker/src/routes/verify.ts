// POST /api/verify (R15, "extracted" fingerprint mode): is this file (or this SHA-256) a registered
// asset, and whose? The body is either the candidate file (application/octet-stream, hashed as it
// streams, never stored) or JSON { contentHash }.
import { sha256 } from '@noble/hashes/sha2.js'
import { Hono } from 'hono'
import { dataAssetNftAbi } from '../../../contracts/index'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import { readContracts } from '../services/chain'
import { addressBook } from '../services/config'
import { maxUploadBytes } from '../services/ipfs'
import { isJson, mediaType, readJson } from '../middleware/body'

async function hashBody(body: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const h = sha256.create()
  let size = 0
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength
    if (size > max)
      throw new ApiError(413, 'file_too_large', `files are limited to ${max} bytes; send { "contentHash" } instead`)
    h.update(chunk)
  }
  if (size === 0)
    throw new ApiError(400, 'body_required', 'send the file as the body, or JSON { "contentHash": "0x…" }')
  return `0x${[...h.digest()].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

export const verify = new Hono<AppEnv>().post('/', async (c) => {
  const type = mediaType(c.req)
  let contentHash: string
  // JSON as readJson takes it anywhere else (parameters and +json types too).
  if (isJson(c.req)) {
    const invalid = {
      code: 'invalid_content_hash',
      message: 'contentHash must be 0x and the 32-byte SHA-256 of the file',
    }
    const body = (await readJson(c.req, 1024, invalid)) as { contentHash?: unknown } | null
    if (typeof body?.contentHash !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(body.contentHash)) {
      throw new ApiError(400, invalid.code, invalid.message)
    }
    contentHash = body.contentHash.toLowerCase()
  } else if (type === 'application/octet-stream') {
    if (!c.req.raw.body) throw new ApiError(400, 'body_required', 'send the file as the body')
    contentHash = await hashBody(c.req.raw.body, maxUploadBytes(c.env))
  } else {
    throw new ApiError(
      415,
      'unsupported_media_type',
      'send application/octet-stream (the file) or application/json ({ contentHash })',
    )
  }
  const book = addressBook(c.env)
  const [[tokenId]] = await readContracts(c.env, [
    { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'tokenIdOfContent', args: [contentHash] },
  ])
  if ((tokenId as bigint) === 0n) return c.json({ match: false, contentHash, chainId: book.chainId })
  const [info] = await readContracts(c.env, [
    { contract: 'DataAssetNFT', abi: dataAssetNftAbi, fn: 'assetInfo', args: [tokenId] },
  ])
  return c.json({
    match: true,
    contentHash,
    chainId: book.chainId,
    asset: {
      contract: book.contracts.DataAssetNFT,
      tokenId: (tokenId as bigint).toString(),
      owner: info[0] as string,
      revoked: info[2] as boolean,
      frozen: info[3] as boolean,
    },
  })
})
