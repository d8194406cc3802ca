// A checked publish request as the worker holds one (services/publish.ts PublishRequest), for tests of the
// publication's bookkeeping: the fields are well formed, nothing in them is signed or checked here.
import type { PublishRequest } from '../../../worker/src/services/publish'

export function publishRequest(fields: Partial<PublishRequest> = {}): PublishRequest {
  return {
    owner: `0x${'aa'.repeat(20)}`,
    idempotencyKey: crypto.randomUUID(),
    requestHash: 'h',
    contentHash: `0x${'11'.repeat(32)}`,
    ciphertextCid: 'bafkreicid',
    declarationBytes: new TextEncoder().encode('{"name":"x"}'),
    declaration: { name: 'x', description: '', attributes: [], stillflow: {} },
    metadataDigest: `0x${'22'.repeat(32)}`,
    signature: `0x${'33'.repeat(65)}`,
    deadline: Math.floor(Date.now() / 1000) + 3600,
    wrappedKey: `0x${'44'.repeat(80)}`,
    format: 'csv',
    policy: { mode: 'dp' },
    ...fields,
  }
}
