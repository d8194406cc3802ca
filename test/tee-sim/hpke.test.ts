import fc from 'fast-check'
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core'
import { describe, expect, it } from 'vitest'
import vector from '../vectors/hpke-rfc9180-a1.json'
import { bytesToHex, concatBytes, toArrayBuffer, utf8 } from '../../tee-sim/src/bytes'
import { hpkeOpen, hpkeSeal, x25519PublicKey } from '../../tee-sim/src/hpke'
import { KeyUnwrapError } from '../../tee-sim/src/errors'
import { deriveKeyPair, setupBaseSender } from './rfc9180-oracle'

const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'))
const hx = (b: Uint8Array | ArrayBuffer) =>
  Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex')

describe('RFC 9180 A.1.1 known answers', () => {
  it('the vector file names its source', () => {
    expect(vector.source).toMatch(/RFC 9180.*A\.1\.1/)
  })

  it('the independent oracle reproduces every published value (so it can vouch for AES-256-GCM)', () => {
    expect(hx(deriveKeyPair(h(vector.ikmE)).sk)).toBe(vector.skEm)
    expect(hx(deriveKeyPair(h(vector.ikmR)).sk)).toBe(vector.skRm)
    expect(hx(deriveKeyPair(h(vector.ikmR)).pk)).toBe(vector.pkRm)
    const s = setupBaseSender(h(vector.pkRm), h(vector.info), h(vector.ikmE), { id: 1, Nk: 16 })
    expect(hx(s.enc)).toBe(vector.enc)
    expect(hx(s.sharedSecret)).toBe(vector.shared_secret)
    expect(hx(s.keyScheduleContext)).toBe(vector.key_schedule_context)
    expect(hx(s.secret)).toBe(vector.secret)
    expect(hx(s.key)).toBe(vector.key)
    expect(hx(s.baseNonce)).toBe(vector.base_nonce)
    expect(hx(s.exporterSecret)).toBe(vector.exporter_secret)
    for (const e of vector.encryptions) {
      expect(hx(s.nonce(e.seq))).toBe(e.nonce)
      expect(hx(s.seal(e.seq, h(e.aad), h(vector.plaintext)))).toBe(e.ct)
    }
    for (const x of vector.exports) expect(hx(s.export(h(x.exporter_context), x.L))).toBe(x.exported_value)
  })

  it('@hpke/core (the library tee-sim uses) reproduces the published ciphertexts and exports', async () => {
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes128Gcm() })
    const pkR = await suite.kem.importKey('raw', toArrayBuffer(h(vector.pkRm)), true)
    const sender = await suite.createSenderContext({
      recipientPublicKey: pkR,
      info: toArrayBuffer(h(vector.info)),
      ekm: toArrayBuffer(h(vector.ikmE)),
    })
    expect(hx(sender.enc)).toBe(vector.enc)
    const skR = await suite.kem.importKey('raw', toArrayBuffer(h(vector.skRm)), false)
    const recipient = await suite.createRecipientContext({
      recipientKey: skR,
      enc: sender.enc,
      info: toArrayBuffer(h(vector.info)),
    })
    const want = new Map(vector.encryptions.map((e) => [e.seq, e]))
    for (let seq = 0; seq <= 256; seq++) {
      const aad = utf8(`Count-${seq}`)
      const ct = await sender.seal(toArrayBuffer(h(vector.plaintext)), toArrayBuffer(aad))
      const e = want.get(seq)
      if (e) {
        expect(hx(aad)).toBe(e.aad)
        expect(hx(ct)).toBe(e.ct)
      }
      expect(hx(await recipient.open(ct, toArrayBuffer(aad)))).toBe(vector.plaintext)
    }
    for (const x of vector.exports)
      expect(hx(await sender.export(toArrayBuffer(h(x.exporter_context)), x.L))).toBe(x.exported_value)
  })
})

describe('the Stillflow suite (X25519 / HKDF-SHA256 / AES-256-GCM)', () => {
  it('hpkeSeal equals the oracle byte for byte on the RFC inputs, and hpkeOpen opens it', async () => {
    const sealed = await hpkeSeal(h(vector.pkRm), h(vector.info), h(vector.plaintext), {
      ikmE: h(vector.ikmE),
      aad: h('436f756e742d30'),
    })
    const s = setupBaseSender(h(vector.pkRm), h(vector.info), h(vector.ikmE), { id: 2, Nk: 32 })
    expect(hx(sealed)).toBe(hx(concatBytes(s.enc, s.seal(0, h('436f756e742d30'), h(vector.plaintext)))))
    expect(hx(s.key)).not.toBe(vector.key) // a different AEAD id changes the key schedule
    expect(hx(await hpkeOpen(h(vector.skRm), h(vector.info), sealed, { aad: h('436f756e742d30') }))).toBe(
      vector.plaintext,
    )
  })

  it('agrees with the oracle for arbitrary keys, info and plaintexts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 200 }),
        async (ikmR, ikmE, info, pt) => {
          const r = deriveKeyPair(ikmR)
          const sealed = await hpkeSeal(r.pk, info, pt, { ikmE })
          const s = setupBaseSender(r.pk, info, ikmE, { id: 2, Nk: 32 })
          expect(bytesToHex(sealed)).toBe(bytesToHex(concatBytes(s.enc, s.seal(0, new Uint8Array(0), pt))))
          expect(await hpkeOpen(r.sk, info, sealed)).toEqual(pt)
        },
      ),
      { numRuns: 20 },
    )
  })

  it('does not open with another key, another info, another aad or any changed byte', async () => {
    const sk = new Uint8Array(32).fill(3)
    const sealed = await hpkeSeal(x25519PublicKey(sk), utf8('info'), utf8('data key'))
    await expect(hpkeOpen(new Uint8Array(32).fill(4), utf8('info'), sealed)).rejects.toThrow(KeyUnwrapError)
    await expect(hpkeOpen(sk, utf8('other'), sealed)).rejects.toThrow(KeyUnwrapError)
    await expect(hpkeOpen(sk, utf8('info'), sealed, { aad: utf8('x') })).rejects.toThrow(KeyUnwrapError)
    for (let i = 0; i < sealed.length; i += 7) {
      const t = sealed.slice()
      t[i] ^= 0x80
      await expect(hpkeOpen(sk, utf8('info'), t)).rejects.toThrow()
    }
  })
})
