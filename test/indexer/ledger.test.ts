// The ledger's byte format: the streaming RFC 6962 root equals the recursive definition, the empty-tree
// root is SHA-256 of nothing (RFC 6962 §2.1), and a line round-trips through parse and re-encode.
import { createHash } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  leafHash,
  ledgerLine,
  MerkleAccumulator,
  merkleRootOf,
  nodeHash,
  parseLedgerLine,
} from '../../worker/src/indexer/ledger'

const sha = (...parts: Buffer[]) => '0x' + createHash('sha256').update(Buffer.concat(parts)).digest('hex')
const hex = (b: Uint8Array) => '0x' + Buffer.from(b).toString('hex')

describe('RFC 6962 Merkle tree', () => {
  it('hashes leaves with 0x00 and nodes with 0x01 (domain separation, §2.1)', () => {
    expect(hex(leafHash('a'))).toBe(sha(Buffer.from([0]), Buffer.from('a')))
    const l = leafHash('a')
    const r = leafHash('b')
    expect(hex(nodeHash(l, r))).toBe(sha(Buffer.from([1]), Buffer.from(l), Buffer.from(r)))
  })

  it('gives SHA-256("") for the empty tree and the leaf hash for one leaf', () => {
    expect(new MerkleAccumulator().root()).toBe('0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    const m = new MerkleAccumulator()
    m.push('only')
    expect(m.root()).toBe(hex(leafHash('only')))
  })

  it('splits at the largest power of two below n: for 3 leaves, MTH = H(H(a,b), c)', () => {
    const m = new MerkleAccumulator()
    for (const l of ['a', 'b', 'c']) m.push(l)
    expect(m.root()).toBe(hex(nodeHash(nodeHash(leafHash('a'), leafHash('b')), leafHash('c'))))
  })

  it('streams to the same root as the recursive definition for any list of lines', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 70 }), (lines) => {
        const m = new MerkleAccumulator()
        for (const l of lines) m.push(l)
        return m.root() === merkleRootOf(lines) && m.count === lines.length
      }),
    )
  })
})

describe('ledgerLine', () => {
  it('has a fixed key order and round-trips through parseLedgerLine', () => {
    const e = {
      chainId: 31337,
      blockNumber: 7,
      blockHash: '0x' + 'ab'.repeat(32),
      blockTime: 1_700_000_000,
      txHash: '0x' + 'cd'.repeat(32),
      logIndex: 2,
      address: '0x' + '11'.repeat(20),
      contract: 'DataMarket',
      name: 'PaymentWithdrawn',
      args: '{"account":"0x2222222222222222222222222222222222222222","currency":"0x0000000000000000000000000000000000000000","amount":"5"}',
      detail: null,
    }
    const line = ledgerLine(e)
    expect(line).toBe(
      `{"chainId":31337,"blockNumber":7,"blockHash":"${e.blockHash}","blockTime":1700000000,"txHash":"${e.txHash}","logIndex":2,` +
        `"address":"${e.address}","contract":"DataMarket","event":"PaymentWithdrawn","args":${e.args},"detail":null}`,
    )
    expect(parseLedgerLine(line)).toEqual(e)
    expect(ledgerLine(parseLedgerLine(line))).toBe(line)
  })
})
