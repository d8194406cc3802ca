// CIDv1 of a raw block built straight from the specs, without multiformats, as an independent check:
// https://github.com/multiformats/cid#cidv1 — multibase prefix ‖ varint(version=1) ‖ varint(codec) ‖ multihash
// codec raw = 0x55, multihash sha2-256 = 0x12, length 0x20 (multicodec table.csv);
// multibase 'b' = RFC 4648 base32, lower case, no padding.

import { createHash } from 'node:crypto'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

export function base32(bytes: Uint8Array): string {
  let out = ''
  let bits = 0
  let value = 0
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31]
  return out
}

export function rawCidV1(bytes: Uint8Array): string {
  const digest = createHash('sha256').update(bytes).digest()
  return 'b' + base32(Buffer.concat([Buffer.from([0x01, 0x55, 0x12, 0x20]), digest]))
}
