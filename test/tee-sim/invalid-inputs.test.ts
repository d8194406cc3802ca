// A sweep of junk over every public function of the door: each refuses with an EnclaveError (never a
// TypeError from deep inside, never success).
import { describe, expect, it } from 'vitest'
import * as door from '../../tee-sim/src/index'
import { checkIngestParams } from '../../tee-sim/src/enclave/ingest'
import { checkJobInput } from '../../tee-sim/src/enclave/jobs'
import { normalizePolicy } from '../../tee-sim/src/policy'

const JUNK: unknown[] = [
  undefined,
  null,
  0,
  -1,
  NaN,
  '',
  'x',
  '0x',
  '0xzz',
  {},
  [],
  true,
  new Uint8Array(0),
  { receipt: null },
  { quote: {} },
]
const key = new Uint8Array(32).fill(1)
const binding = {
  chainId: 1,
  contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  contentHash: `0x${'00'.repeat(32)}`,
}

async function refuses(f: () => unknown): Promise<void> {
  let threw: unknown
  try {
    await f()
  } catch (e) {
    threw = e
  }
  expect(threw, 'should refuse').toBeInstanceOf(door.EnclaveError)
}

const cases: [string, (x: unknown) => unknown][] = [
  ['verifyQuote', (x) => door.verifyQuote(x, { allowAnyNonce: true })],
  ['verifyReceipt', (x) => door.verifyReceipt(x as never)],
  ['verifyIngestReceipt', (x) => door.verifyIngestReceipt(x as never)],
  ['unwrapDataKey', (x) => door.unwrapDataKey(x as string, key, binding)],
  ['unwrapDataKey(binding)', (x) => door.unwrapDataKey(`0x${'00'.repeat(80)}`, key, x as never)],
  ['wrapDataKey', (x) => door.wrapDataKey(x as Uint8Array, key, binding)],
  ['openResult', (x) => door.openResult(x as string, key, `0x${'00'.repeat(32)}`)],
  [
    'decryptChunked',
    (x) =>
      door.collectBytes(door.decryptChunked(key, [x instanceof Uint8Array ? x : new TextEncoder().encode(String(x))])),
  ],
  ['hexToBytes', (x) => door.hexToBytes(x as string, 32)],
  [
    'typedDataDigest',
    (x) => door.typedDataDigest(door.receiptDomain(1, binding.contract), door.JOB_RECEIPT_TYPES, (x ?? {}) as never),
  ],
  ['recoverDigestSigner', (x) => door.recoverDigestSigner(new Uint8Array(32), x as string)],
  ['checkJobRequest', (x) => door.checkJobRequest(x)],
  ['checksumAddress', (x) => door.checksumAddress(x as string)],
  ['canonicalJson', (x) => door.canonicalJson(typeof x === 'number' ? Infinity : () => x)],
  ['checkIngestParams', (x) => checkIngestParams(x)],
  ['checkJobInput', (x) => checkJobInput(x)],
  // null/undefined mean "the default policy" (documented), so they are swapped for a bad mode here
  ['normalizePolicy', (x) => normalizePolicy(x == null ? { mode: 'x' } : x)],
]

describe('invalid inputs', () => {
  it.each(cases)('%s refuses every junk value with an EnclaveError', async (_, f) => {
    for (const x of JUNK) await refuses(() => f(x))
  })
})

describe('job request licence ids', () => {
  const request = (licenceId: string) => ({
    licenceId,
    contentHash: `0x${'11'.repeat(32)}`,
    queryHash: `0x${'22'.repeat(32)}`,
    resultPublicKey: `0x${'33'.repeat(32)}`,
    nonce: `0x${'44'.repeat(32)}`,
    deadline: 2_000_000_000,
  })
  it('refuses an id EIP-712 cannot encode (2^256 and above) as bad input, not later as a bad signature', async () => {
    const max = ((1n << 256n) - 1n).toString()
    expect(door.checkJobRequest(request(max)).licenceId).toBe(max)
    await refuses(() => door.checkJobRequest(request((1n << 256n).toString())))
    await refuses(() => door.checkJobRequest(request('9'.repeat(78))))
  })
})
