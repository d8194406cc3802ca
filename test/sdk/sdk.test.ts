import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { create } from 'kubo-rpc-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startIpfsNode } from '../../ipfs/src/index'
import {
  checkDeclarationInput,
  decodeDeclaration,
  encodeDeclaration,
  kuboCidV1,
  rawBlockCid,
  rawCidOfDigest,
  type DeclarationInput,
} from '../../sdk/src/index'

/** Deterministic bytes (xorshift), so a failure reproduces. */
function bytes(n: number, seed = 7): Uint8Array {
  const out = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

async function* chunks(b: Uint8Array, size = 100_000) {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size)
}

describe('kuboCidV1 (the CID an owner signs before uploading)', () => {
  let node: Awaited<ReturnType<typeof startIpfsNode>>
  let repo: string
  beforeAll(async () => {
    repo = mkdtempSync(join(tmpdir(), 'sdk-ipfs-'))
    node = await startIpfsNode({ repo, apiPort: 0, gatewayPort: 0 })
  })
  afterAll(async () => {
    await node?.close()
    rmSync(repo, { recursive: true, force: true })
  })

  for (const size of [1, 262_144, 262_145, 3 * 1024 * 1024 + 17]) {
    it(`equals what the IPFS node stores for ${size} bytes`, async () => {
      const data = bytes(size, size)
      const { cid } = await create({ url: `${node.apiUrl}/api/v0` }).add(data, {
        cidVersion: 1,
        rawLeaves: true,
        pin: false,
      })
      expect(await kuboCidV1(chunks(data))).toBe(cid.toString())
    })
  }

  it('finds a raw block by its SHA-256 digest', async () => {
    const data = new TextEncoder().encode('{"name":"x"}')
    const digest = `0x${Buffer.from(await crypto.subtle.digest('SHA-256', data)).toString('hex')}`
    expect(rawCidOfDigest(digest)).toBe(await rawBlockCid(data))
  })
})

describe('declarations', () => {
  const ok: DeclarationInput = {
    name: 'Weather',
    tags: ['weather'],
    lawfulBasis: { basis: 'owned', statement: 'mine', personalData: false },
  }

  it('accepts a complete declaration', () => {
    expect(() => checkDeclarationInput(ok)).not.toThrow()
  })
  it('takes tags in any script, lowercase or caseless, and refuses what would not be one tag per word', () => {
    const good = ['weather', 'city-2024', '城市', 'données', 'città', 'наука', 'x'.repeat(32)]
    expect(() => checkDeclarationInput({ ...ok, tags: good })).not.toThrow()
    for (const bad of [
      'Weather', // a capital: 'Weather' and 'weather' would be two tags
      'Наука',
      'two words',
      '-dash-first',
      'emoji🙂',
      'cafe\u0301', // é decomposed (not NFC): looks like 'café' but would not match it
      'x'.repeat(33),
      '',
    ])
      expect(() => checkDeclarationInput({ ...ok, tags: [bad] }), bad).toThrow(/tags entry .* must be 1-32 lowercase/)
  })
  it.each([
    [{ ...ok, name: ' ' }, /name is required/],
    [{ ...ok, name: 'x'.repeat(121) }, /name is longer than 120/],
    [{ ...ok, tags: ['Not OK'] }, /tags entry "Not OK"/],
    [{ ...ok, image: 'javascript:alert(1)' }, /image must be an https/],
    [{ ...ok, lawfulBasis: { basis: '', statement: 's', personalData: false } }, /lawfulBasis.basis is required/],
    [
      { ...ok, lawfulBasis: { basis: 'owned', statement: 's', personalData: 'no' as unknown as boolean } },
      /personalData must be true or false/,
    ],
  ])('names the field that is wrong (%#)', (input, message) => {
    expect(() => checkDeclarationInput(input)).toThrow(message)
  })
  it('encodes canonically and refuses oversized documents', () => {
    const d = {
      name: 'n',
      description: 'd',
      attributes: [],
      stillflow: { version: 'stillflow.asset/v1', b: 1, a: 2 },
    } as never
    expect(new TextDecoder().decode(encodeDeclaration(d))).toBe(
      '{"attributes":[],"description":"d","name":"n","stillflow":{"a":2,"b":1,"version":"stillflow.asset/v1"}}',
    )
    expect(decodeDeclaration(encodeDeclaration(d))).toEqual(d)
    expect(() => encodeDeclaration({ ...(d as object), description: 'x'.repeat(9000) } as never)).toThrow(
      /at most 8192/,
    )
    expect(() => decodeDeclaration(new TextEncoder().encode('{"stillflow":{"version":"other"}}'))).toThrow(
      /not a stillflow.asset\/v1/,
    )
  })
})
