import { describe, expect, it } from 'vitest'
import { hexToBytes, utf8 } from '../../tee-sim/src/bytes'
import { InvalidInputError, KeyUnwrapError } from '../../tee-sim/src/errors'
import { x25519PublicKey } from '../../tee-sim/src/hpke'
import {
  dataKeyInfo,
  openResult,
  sealResult,
  unwrapDataKey,
  wrapDataKey,
  WRAPPED_DATA_KEY_LENGTH,
} from '../../tee-sim/src/key-release'

const clusterSk = new Uint8Array(32).fill(5)
const clusterPk = x25519PublicKey(clusterSk)
const dataKey = new Uint8Array(32).fill(0x42)
const binding = {
  chainId: 31337,
  contract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
  contentHash: `0x${'ab'.repeat(32)}`,
}

describe('data-key wrapping', () => {
  it('round-trips and is 80 bytes (enc ‖ AES-256-GCM(key))', async () => {
    const wrapped = await wrapDataKey(dataKey, clusterPk, binding)
    expect(hexToBytes(wrapped).length).toBe(WRAPPED_DATA_KEY_LENGTH)
    expect(await unwrapDataKey(wrapped, clusterSk, binding)).toEqual(dataKey)
    // hex public keys work too, and the address case does not matter
    const w2 = await wrapDataKey(dataKey, `0x${Buffer.from(clusterPk).toString('hex')}`, {
      ...binding,
      contract: binding.contract.toLowerCase(),
    })
    expect(await unwrapDataKey(w2, clusterSk, binding)).toEqual(dataKey)
  })

  it.each([
    ['another chain', { ...binding, chainId: 1 }],
    ['another contract', { ...binding, contract: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512' }],
    ['another content hash', { ...binding, contentHash: `0x${'cd'.repeat(32)}` }],
  ])('refuses to unwrap for %s', async (_, other) => {
    const wrapped = await wrapDataKey(dataKey, clusterPk, binding)
    await expect(unwrapDataKey(wrapped, clusterSk, other)).rejects.toThrow(KeyUnwrapError)
  })

  it('refuses another cluster key and tampered bytes', async () => {
    const wrapped = await wrapDataKey(dataKey, clusterPk, binding)
    await expect(unwrapDataKey(wrapped, new Uint8Array(32).fill(6), binding)).rejects.toThrow(KeyUnwrapError)
    const b = hexToBytes(wrapped)
    b[50] ^= 1
    await expect(unwrapDataKey(`0x${Buffer.from(b).toString('hex')}`, clusterSk, binding)).rejects.toThrow(
      KeyUnwrapError,
    )
  })

  it('rejects malformed inputs', async () => {
    await expect(wrapDataKey(new Uint8Array(16), clusterPk, binding)).rejects.toThrow(InvalidInputError)
    await expect(wrapDataKey(dataKey, new Uint8Array(31), binding)).rejects.toThrow(InvalidInputError)
    await expect(unwrapDataKey('0x1234', clusterSk, binding)).rejects.toThrow(InvalidInputError)
    expect(() => dataKeyInfo({ ...binding, contract: 'nope' })).toThrow(InvalidInputError)
    expect(() => dataKeyInfo({ ...binding, contentHash: '0x12' })).toThrow(InvalidInputError)
    expect(() => dataKeyInfo({ ...binding, chainId: -1 })).toThrow(InvalidInputError)
  })

  it('binds label, chain id, contract and content hash in the HPKE info, in that order', () => {
    const info = dataKeyInfo(binding)
    const label = utf8('stillflow/data-key/v1')
    expect(info.subarray(0, label.length)).toEqual(label)
    expect(info.length).toBe(label.length + 32 + 20 + 32)
    expect(info[label.length + 31]).toBe(0x69) // 31337 = 0x7a69
    expect(info.subarray(info.length - 32)).toEqual(hexToBytes(binding.contentHash))
  })
})

describe('result sealing', () => {
  it('only the buyer key and the right job id open a result', async () => {
    const buyerSk = new Uint8Array(32).fill(9)
    const jobId = `0x${'01'.repeat(32)}`
    const sealed = await sealResult(utf8('{"rows":[]}'), x25519PublicKey(buyerSk), jobId)
    expect(new TextDecoder().decode(await openResult(sealed, buyerSk, jobId))).toBe('{"rows":[]}')
    await expect(openResult(sealed, buyerSk, `0x${'02'.repeat(32)}`)).rejects.toThrow(KeyUnwrapError)
    await expect(openResult(sealed, new Uint8Array(32).fill(8), jobId)).rejects.toThrow(KeyUnwrapError)
  })
})
