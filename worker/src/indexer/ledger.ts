// Owns the ledger's byte format: the canonical JSON line of one event and the RFC 6962 Merkle tree over
// those lines. Pure and runtime-neutral, so the worker's export and the independent checker
// (`npm run audit`) hash exactly the same bytes. The format is specified in worker/README.md.
import { sha256 } from '@noble/hashes/sha2.js'
import type { EventFragment, ParamType, Result } from 'ethers'

/** JSON value of a decoded argument: uint/int → decimal string, address/bytes → lowercase hex. */
export type Canonical = string | boolean | Canonical[] | { [name: string]: Canonical }

/** Canonical form of one decoded value of type `param` (recursing into tuples and arrays). */
export function canonicalValue(param: ParamType, value: unknown): Canonical {
  if (param.isTuple()) {
    const r = value as Result
    const out: Record<string, Canonical> = {}
    param.components.forEach((c, i) => (out[c.name || String(i)] = canonicalValue(c, r[i])))
    return out
  }
  if (param.isArray()) return (value as unknown[]).map((v) => canonicalValue(param.arrayChildren, v))
  if (param.baseType === 'bool') return Boolean(value)
  if (param.baseType === 'string') return String(value)
  if (param.baseType.startsWith('uint') || param.baseType.startsWith('int')) return (value as bigint).toString(10)
  // address, bytes, bytesN; an indexed dynamic value arrives as its topic hash (an ethers Indexed).
  const v = value as { hash?: string } | string
  return (typeof v === 'string' ? v : String(v.hash)).toLowerCase()
}

/** The event's arguments as an object in ABI order: `{ tokenId: "1", owner: "0x…" }`. */
export function canonicalArgs(fragment: EventFragment, args: Result): Record<string, Canonical> {
  const out: Record<string, Canonical> = {}
  fragment.inputs.forEach((p, i) => (out[p.name || String(i)] = canonicalValue(p, args[i])))
  return out
}

/** One event as the ledger records it; `args` and `detail` are already canonical JSON text. */
export interface LedgerEvent {
  chainId: number
  blockNumber: number
  blockHash: string
  blockTime: number
  txHash: string
  logIndex: number
  address: string
  contract: string
  name: string
  args: string
  detail: string | null
}

/**
 * The canonical line of an event: JSON with keys in this fixed order and no whitespace. `args` and
 * `detail` are embedded as the JSON they are stored as (so a line is a pure function of the row).
 */
export function ledgerLine(e: LedgerEvent): string {
  const head = JSON.stringify({
    chainId: e.chainId,
    blockNumber: e.blockNumber,
    blockHash: e.blockHash,
    blockTime: e.blockTime,
    txHash: e.txHash,
    logIndex: e.logIndex,
    address: e.address,
    contract: e.contract,
    event: e.name,
  })
  return `${head.slice(0, -1)},"args":${e.args},"detail":${e.detail ?? 'null'}}`
}

/** Parses a ledger line back into its event (the checker's inverse of `ledgerLine`). */
export function parseLedgerLine(line: string): LedgerEvent {
  const o = JSON.parse(line) as Record<string, unknown>
  return {
    chainId: o.chainId as number,
    blockNumber: o.blockNumber as number,
    blockHash: o.blockHash as string,
    blockTime: o.blockTime as number,
    txHash: o.txHash as string,
    logIndex: o.logIndex as number,
    address: o.address as string,
    contract: o.contract as string,
    name: o.event as string,
    args: JSON.stringify(o.args),
    detail: o.detail === null || o.detail === undefined ? null : JSON.stringify(o.detail),
  }
}

const utf8 = new TextEncoder()
const toHex = (b: Uint8Array) => '0x' + Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')

function concat(prefix: number, ...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(1 + parts.reduce((n, p) => n + p.length, 0))
  out[0] = prefix
  let at = 1
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** RFC 6962 §2.1 leaf hash: SHA-256(0x00 ‖ UTF-8 bytes of the line, without its newline). */
export function leafHash(line: string): Uint8Array {
  return sha256(concat(0x00, utf8.encode(line)))
}

/** RFC 6962 §2.1 interior node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(concat(0x01, left, right))
}

/**
 * The RFC 6962 Merkle Tree Hash of a stream of leaves in O(log n) memory. It keeps the roots of the
 * perfect subtrees the leaves so far form (sizes strictly decreasing, like the binary digits of n);
 * folding them right to left gives MTH, whose split point is the largest power of two below n.
 * @example
 * const m = new MerkleAccumulator(); for (const l of lines) m.push(l); m.root() // 0x…
 */
export class MerkleAccumulator {
  private stack: Array<{ size: number; hash: Uint8Array }> = []
  count = 0

  push(line: string): void {
    this.pushLeaf(leafHash(line))
  }

  pushLeaf(hash: Uint8Array): void {
    let node = { size: 1, hash }
    while (this.stack.length && this.stack[this.stack.length - 1].size === node.size) {
      const left = this.stack.pop()!
      node = { size: left.size * 2, hash: nodeHash(left.hash, node.hash) }
    }
    this.stack.push(node)
    this.count++
  }

  /** The root as 0x-hex; the empty tree's root is SHA-256 of the empty string (RFC 6962 §2.1). */
  root(): string {
    if (!this.stack.length) return toHex(sha256(new Uint8Array(0)))
    let hash = this.stack[this.stack.length - 1].hash
    for (let i = this.stack.length - 2; i >= 0; i--) hash = nodeHash(this.stack[i].hash, hash)
    return toHex(hash)
  }
}

/** The RFC 6962 root of `lines`, by the recursive definition (for tests of the accumulator). */
export function merkleRootOf(lines: string[]): string {
  const mth = (leaves: Uint8Array[]): Uint8Array => {
    if (leaves.length === 0) return sha256(new Uint8Array(0))
    if (leaves.length === 1) return leaves[0]
    let k = 1
    while (k * 2 < leaves.length) k *= 2
    return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)))
  }
  return toHex(mth(lines.map(leafHash)))
}
