// GET /api/metadata/:tokenId — an asset's ERC-721 metadata for wallets and NFT marketplaces (OpenSea's
// metadata standard: name, description, image, attributes, plus the `stillflow` extension). DataAssetNFT's
// tokenURI is base + id, and a deployment sets the base to this route (`npm start` does). The JSON is
// served byte for byte as the owner signed it: the chain anchors its SHA-256 (AssetMinted, AssetAmended),
// so whoever reads it can check it, and an amendment is served once indexed.
import { Hono } from 'hono'
import type { AppEnv } from '../env'
import { ApiError } from '../errors'
import type { IndexerBindings } from '../indexer/settings'
import { uintParam } from '../indexer/params'
import { notFound } from '../indexer/read'
import { declarationBytes, metadataDigestOf } from './catalog'

export const tokenMetadata = new Hono<AppEnv>().get('/:id', async (c) => {
  const env = c.env as IndexerBindings
  const tokenId = uintParam(c.req.param('id'), 'asset id', 'invalid_asset_id')
  const digest = await metadataDigestOf(env, tokenId)
  if (!digest) notFound('asset_not_found', `No asset ${tokenId} is known here`)
  const bytes = await declarationBytes(env, digest).catch(() => null)
  if (!bytes)
    throw new ApiError(503, 'metadata_unavailable', `IPFS cannot serve asset ${tokenId}'s metadata now; try again`)
  return new Response(bytes, {
    headers: {
      'content-type': 'application/json; charset=utf-8',
      // Wallets cache token metadata; an amendment changes it (ERC-4906 MetadataUpdate tells them when).
      'cache-control': 'public, max-age=60',
      'x-stillflow-metadata-digest': digest,
      'access-control-allow-origin': '*',
    },
  })
})
