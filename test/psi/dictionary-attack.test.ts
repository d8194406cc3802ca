// R62, demonstrated: plain hashing is not PSI. Over a small domain (10⁶ phone-number-like ids) a
// dictionary of hashes recovers a hashed set completely; the same dictionary recovers nothing from
// the blinded messages S = X·H(m) — even when it is built with the protocol's own H.
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createPsiParty, loadPsiEngine, toHex, PSI_DST } from '../../sdk/src/psi/index'
import { seededRandom } from './support'

const DOMAIN = 1_000_000
const phone = (i: number) => `+44 7700 ${String(i).padStart(6, '0')}`
const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex')

// The victim's set: 40 ids spread over the domain (deterministic).
const victim = Array.from({ length: 40 }, (_, k) => phone((k * 24_989 + 17) % DOMAIN))

describe('R62: the dictionary attack', async () => {
  const engine = await loadPsiEngine('node')

  it('recovers every id of a small-domain set from its plain SHA-256 hashes', () => {
    const leaked = new Set(victim.map(sha256hex))
    const recovered: string[] = []
    for (let i = 0; i < DOMAIN; i++) {
      const id = phone(i)
      if (leaked.has(sha256hex(id))) recovered.push(id)
    }
    expect(recovered.sort()).toEqual([...victim].sort())
  })

  it('recovers nothing from the blinded messages, even with the true ids in the dictionary', async () => {
    const party = createPsiParty({ items: victim, engine, random: seededRandom('victim') })
    const sent = new Set((await party.blindOwn()).map(toHex))
    // A dictionary of 20,000 candidates that contains all 40 true ids, hashed every way an attacker
    // without X could: plain SHA-256, and the protocol's own H (hash-to-group is public).
    const candidates = Array.from({ length: 20_000 }, (_, i) => phone((i * 50 + 17) % DOMAIN))
    for (const v of victim) candidates.push(v)
    const enc = new TextEncoder()
    const viaH = engine.hashToGroup(
      candidates.map((c) => enc.encode(c)),
      enc.encode(PSI_DST),
    )
    const hitsH = viaH.filter((h) => sent.has(toHex(h))).length
    const hitsSha = candidates.filter((c) => sent.has(sha256hex(c))).length
    // …and blinded under a key of the attacker's own (what a peer B can do): still no collision with X.
    const guessKey = seededRandom('attacker')(32)
    const hitsOther = engine.blind(guessKey, viaH).filter((h) => sent.has(toHex(h))).length
    expect({ hitsH, hitsSha, hitsOther }).toEqual({ hitsH: 0, hitsSha: 0, hitsOther: 0 })
    party.dispose()
  })
})
