// The comparator C of the slides as a SQLite-backed Durable Object, one per PSI session: records both
// parties' signed consent, relays their end-to-end-encrypted first messages, receives U and V, compares
// them, gives each party — authenticated by signature — the positions of its own list that matched, and
// has the relayer commit the session's transcript hash and intersection size on chain (commit.ts; R55).
// At expiry it keeps only a tombstone, so that a late party is told the session expired.
import { DurableObject } from 'cloudflare:workers'
import { getAddress } from 'ethers'
import {
  recoverParticipation,
  recoverPsiRequest,
  roleCode,
  type PsiAction,
  type PsiParticipation,
  type PsiRole,
} from '../../../sdk/src/psi/consent'
import { messageDigest, psiTranscriptHash, type PsiMessageDigests } from '../../../sdk/src/psi/transcript'
import type { PsiCommitStatus } from '../../../sdk/src/psi/session-client'
import type { Bindings } from '../env'
import { chainLedger, commitBackoffS, commitTranscript, PsiCommitRetry, type PsiLedger } from './commit'
import {
  PSI_CHUNK_BYTES,
  PSI_MAX_ELEMENTS,
  PSI_MAX_LIFETIME_S,
  PSI_MAX_SIGNATURE_WINDOW_S,
  PSI_TOMBSTONE_S,
} from './limits'
import type { PsiSessionInfo, PsiSessionResult } from '../../../sdk/src/psi/session-client'

/** A refusal the route turns into an HTTP error (worker/src/errors.ts maps ApiError). */
export type PsiFailure = {
  ok: false
  kind: 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'not_ready' | 'expired' | 'too_large'
  code: string
  message: string
  /** Extra machine-readable facts for the error body (ApiError's fields). */
  fields?: Record<string, unknown>
}
export type PsiOk<T> = { ok: true; value: T }
export type PsiReply<T> = PsiOk<T> | PsiFailure

export interface CreateSession {
  sessionId: string
  chainId: number
  partyA: string
  partyB: string
  maxElements: number
  expiresAt: number
  role: PsiRole
  transportKey: string
  signature: string
}

export interface JoinSession {
  role: PsiRole
  transportKey: string
  signature: string
}

/** A signed request: `action` on this session by `role`, fresh until `deadline`, once per `nonce`. */
export interface PsiAuth {
  role: PsiRole
  nonce: string
  deadline: number
  signature: string
}

/** The wire shapes are the client library's (sdk/src/psi/session-client.ts): one definition for both ends. */
export type SessionStatus = PsiSessionInfo
export type PsiResult = PsiSessionResult

interface Meta {
  sessionId: string
  chainId: number
  partyA: string
  partyB: string
  maxElements: number
  expiresAt: number
  keys: { A?: string; B?: string }
  result?: {
    intersectionSize: number
    transcriptHash: string
    sizes: { A: number; B: number }
    digests: PsiMessageDigests
  }
  commit?: PsiCommitStatus
}

/**
 * What is left of a session after expiry, for PSI_TOMBSTONE_S: its terms and how it ended, without the
 * lists, results, nonces or transport keys.
 */
type Tombstone = Pick<Meta, 'sessionId' | 'chainId' | 'partyA' | 'partyB' | 'maxElements' | 'expiresAt' | 'commit'> & {
  expired: true
  result?: Pick<NonNullable<Meta['result']>, 'intersectionSize' | 'transcriptHash'>
}

type UploadKind = 'relay' | 'blinded'
const UPLOAD_ACTION: Record<UploadKind, PsiAction> = { relay: 'put-relay', blinded: 'put-blinded' }

const fail = (
  kind: PsiFailure['kind'],
  code: string,
  message: string,
  fields?: Record<string, unknown>,
): PsiFailure => ({ ok: false, kind, code, message, ...(fields ? { fields } : {}) })
const ok = <T>(value: T): PsiOk<T> => ({ ok: true, value })
/** The terms both parties signed, as a session's status and its tombstone show them. */
const termsOf = ({ sessionId, chainId, partyA, partyB, maxElements, expiresAt }: Meta) => ({
  sessionId,
  chainId,
  partyA,
  partyB,
  maxElements,
  expiresAt,
})
const other = (r: PsiRole): PsiRole => (r === 'A' ? 'B' : 'A')
const HEX32 = /^0x[0-9a-fA-F]{64}$/
/** SHA-256 of no bytes: the body hash a signed read carries. */
const EMPTY_BODY_HASH = '0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
const isoTime = (unixS: number) => new Date(unixS * 1000).toISOString()

/** Commits are retried only while the session lives: one still pending at expiry stops, and says so. */
function commitAtExpiry(c: PsiCommitStatus | undefined): PsiCommitStatus | undefined {
  if (c?.status !== 'pending') return c
  return {
    status: 'failed',
    attempts: c.attempts,
    error:
      `not confirmed on chain when the session expired, after ${c.attempts} attempt(s); no more are made ` +
      `(ComputeLedger.psiCommitment shows whether one landed)${c.error ? `; last: ${c.error}` : ''}`,
  }
}

async function sha256Hex(data: ArrayBuffer | Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', data as BufferSource))
  return '0x' + [...d].map((b) => b.toString(16).padStart(2, '0')).join('')
}

export class PsiSession extends DurableObject {
  private readonly sql: SqlStorage

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never)
    this.sql = ctx.storage.sql
    this.sql.exec(`CREATE TABLE IF NOT EXISTS meta (id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS blobs (kind TEXT NOT NULL, role TEXT NOT NULL, chunk INTEGER NOT NULL, data BLOB NOT NULL,
        PRIMARY KEY (kind, role, chunk));
      CREATE TABLE IF NOT EXISTS nonces (role TEXT NOT NULL, nonce TEXT NOT NULL, PRIMARY KEY (role, nonce));
      CREATE TABLE IF NOT EXISTS results (role TEXT PRIMARY KEY, positions BLOB NOT NULL);
      CREATE TABLE IF NOT EXISTS sent (kind TEXT NOT NULL, role TEXT NOT NULL, digest TEXT NOT NULL,
        PRIMARY KEY (kind, role));`)
  }

  private now(): number {
    return Math.floor(Date.now() / 1000)
  }

  private meta(): Meta | Tombstone | undefined {
    const row = this.sql.exec<{ json: string }>('SELECT json FROM meta WHERE id = 1').toArray()[0]
    return row ? (JSON.parse(row.json) as Meta | Tombstone) : undefined
  }

  private saveMeta(m: Meta | Tombstone) {
    this.sql.exec('INSERT OR REPLACE INTO meta (id, json) VALUES (1, ?)', JSON.stringify(m))
  }

  private has(kind: string, role: PsiRole): boolean {
    return this.sql.exec('SELECT 1 FROM blobs WHERE kind = ? AND role = ? LIMIT 1', kind, role).toArray().length > 0
  }

  /** SHA-256 of the list `role` uploaded as `kind`; kept after the relays are dropped, until expiry. */
  private sentDigest(kind: UploadKind, role: PsiRole): string | undefined {
    return this.sql
      .exec<{ digest: string }>('SELECT digest FROM sent WHERE kind = ? AND role = ?', kind, role)
      .toArray()[0]?.digest
  }

  private alreadySent(kind: UploadKind, role: PsiRole): PsiFailure | undefined {
    // A blob without a digest is from a session begun before digests were kept.
    if (this.sentDigest(kind, role) === undefined && !this.has(kind, role)) return undefined
    return fail(
      'conflict',
      'psi_already_sent',
      `Party ${role} has already sent its ${kind} list, with other bytes: a sent list cannot be changed. ` +
        'A party that lost its run cannot send the same list again (its PSI secret is never stored, so a new ' +
        'run blinds differently): start a new session.',
    )
  }

  private putBlob(kind: string, role: PsiRole, data: Uint8Array) {
    for (let o = 0, chunk = 0; o < data.length || chunk === 0; o += PSI_CHUNK_BYTES, chunk++) {
      this.sql.exec(
        'INSERT INTO blobs (kind, role, chunk, data) VALUES (?, ?, ?, ?)',
        kind,
        role,
        chunk,
        data.subarray(o, o + PSI_CHUNK_BYTES),
      )
    }
  }

  private getBlob(kind: string, role: PsiRole): Uint8Array {
    const rows = this.sql
      .exec<{ data: ArrayBuffer }>('SELECT data FROM blobs WHERE kind = ? AND role = ? ORDER BY chunk', kind, role)
      .toArray()
    const total = rows.reduce((n, r) => n + r.data.byteLength, 0)
    const out = new Uint8Array(total)
    let o = 0
    for (const r of rows) {
      out.set(new Uint8Array(r.data), o)
      o += r.data.byteLength
    }
    return out
  }

  private status(m: Meta): SessionStatus {
    const both = Boolean(m.keys.A && m.keys.B)
    const state = m.result
      ? 'done'
      : !both
        ? 'awaiting-peer'
        : this.has('blinded', 'A') || this.has('blinded', 'B')
          ? 'comparing'
          : 'exchanging'
    return {
      ...termsOf(m),
      state,
      joined: { A: Boolean(m.keys.A), B: Boolean(m.keys.B) },
      transportKeys: { ...m.keys },
      ...(m.commit ? { commit: { ...m.commit } } : {}),
    }
  }

  private live(): PsiReply<Meta> {
    const m = this.meta()
    if (!m) return fail('not_found', 'psi_session_not_found', 'No such PSI session')
    if ('expired' in m || this.now() >= m.expiresAt) return this.gone(m)
    return ok(m)
  }

  /** The answer to every call once the session has expired, before and after its alarm made it a tombstone. */
  private gone(m: Meta | Tombstone): PsiFailure {
    const commit = commitAtExpiry(m.commit)
    return fail(
      'expired',
      'psi_session_expired',
      `The PSI session expired at ${isoTime(m.expiresAt)}; its lists and results are deleted. ` +
        'Start a new session to compare again.',
      { expiredAt: m.expiresAt, ...(commit ? { commit } : {}) },
    )
  }

  private participation(m: Meta, role: PsiRole, transportKey: string): PsiParticipation {
    return {
      sessionId: m.sessionId,
      partyA: m.partyA,
      partyB: m.partyB,
      role: roleCode(role),
      maxElements: m.maxElements,
      expiresAt: m.expiresAt,
      transportKey,
    }
  }

  private checkConsent(m: Meta, role: PsiRole, transportKey: string, signature: string): PsiFailure | undefined {
    if (role !== 'A' && role !== 'B') return fail('invalid', 'psi_bad_role', 'role must be "A" or "B"')
    if (typeof transportKey !== 'string' || !HEX32.test(transportKey))
      return fail('invalid', 'psi_bad_transport_key', 'transportKey must be 32-byte hex')
    let signer: string
    try {
      signer = recoverParticipation(m.chainId, this.participation(m, role, transportKey), signature)
    } catch {
      return fail('unauthorized', 'psi_bad_signature', 'The participation signature is malformed')
    }
    const expected = role === 'A' ? m.partyA : m.partyB
    if (signer !== expected)
      return fail('forbidden', 'psi_not_a_party', `The participation for role ${role} must be signed by ${expected}`)
    return undefined
  }

  /** Opens the session with the creator's signed participation. */
  async create(input: CreateSession): Promise<PsiReply<SessionStatus>> {
    const existing = this.meta()
    const now = this.now()
    if (existing)
      return fail(
        'conflict',
        'psi_session_exists',
        'expired' in existing || now >= existing.expiresAt
          ? `A PSI session with this id expired at ${isoTime(existing.expiresAt)}; create the new one with a new id`
          : 'A PSI session with this id exists',
      )
    if (typeof input.sessionId !== 'string' || !HEX32.test(input.sessionId) || /^0x0{64}$/.test(input.sessionId))
      return fail('invalid', 'psi_bad_session_id', 'sessionId must be non-zero 32-byte hex')
    if (!Number.isSafeInteger(input.chainId) || input.chainId <= 0)
      return fail('invalid', 'psi_bad_chain_id', 'chainId must be a positive integer')
    let partyA: string, partyB: string
    try {
      partyA = getAddress(input.partyA)
      partyB = getAddress(input.partyB)
    } catch {
      return fail('invalid', 'psi_bad_party', 'partyA and partyB must be addresses')
    }
    if (partyA === partyB) return fail('invalid', 'psi_same_party', 'partyA and partyB must differ')
    if (!Number.isSafeInteger(input.maxElements) || input.maxElements < 1 || input.maxElements > PSI_MAX_ELEMENTS)
      return fail('invalid', 'psi_bad_max_elements', `maxElements must be 1..${PSI_MAX_ELEMENTS}`)
    if (!Number.isSafeInteger(input.expiresAt) || input.expiresAt <= now || input.expiresAt > now + PSI_MAX_LIFETIME_S)
      return fail('invalid', 'psi_bad_expiry', `expiresAt must be in the next ${PSI_MAX_LIFETIME_S} s`)
    const m: Meta = {
      sessionId: input.sessionId.toLowerCase(),
      chainId: input.chainId,
      partyA,
      partyB,
      maxElements: input.maxElements,
      expiresAt: input.expiresAt,
      keys: {},
    }
    const bad = this.checkConsent(m, input.role, input.transportKey, input.signature)
    if (bad) return bad
    m.keys[input.role] = input.transportKey.toLowerCase()
    this.saveMeta(m)
    // Expiry: everything this object holds but a tombstone is deleted when the session lapses (alarm).
    await this.ctx.storage.setAlarm(m.expiresAt * 1000)
    return ok(this.status(m))
  }

  /** Adds the counterparty's signed participation. */
  async join(input: JoinSession): Promise<PsiReply<SessionStatus>> {
    const live = this.live()
    if (!live.ok) return live
    const m = live.value
    const bad = this.checkConsent(m, input.role, input.transportKey, input.signature)
    if (bad) return bad
    if (m.keys[input.role]) return fail('conflict', 'psi_already_joined', `Role ${input.role} has already joined`)
    m.keys[input.role] = input.transportKey.toLowerCase()
    this.saveMeta(m)
    return ok(this.status(m))
  }

  async describe(): Promise<PsiReply<SessionStatus>> {
    const live = this.live()
    return live.ok ? ok(this.status(live.value)) : live
  }

  /** Verifies a read's signature and spends its nonce: each signed read is answered once. */
  private authorize(m: Meta, auth: PsiAuth, action: PsiAction): PsiFailure | undefined {
    return this.verify(m, auth, action, EMPTY_BODY_HASH) ?? this.spend(auth)
  }

  /** Checks that `auth` is its party's signature of `action` over a body hashing to `bodyHash`, in time. */
  private verify(m: Meta, auth: PsiAuth, action: PsiAction, bodyHash: string): PsiFailure | undefined {
    if (auth.role !== 'A' && auth.role !== 'B') return fail('unauthorized', 'psi_bad_role', 'x-psi-role must be A or B')
    if (!/^[0-9]{1,20}$/.test(auth.nonce) || BigInt(auth.nonce) >= 1n << 64n)
      return fail('unauthorized', 'psi_bad_nonce', 'x-psi-nonce must be a uint64')
    const now = this.now()
    if (!Number.isSafeInteger(auth.deadline) || auth.deadline < now || auth.deadline > now + PSI_MAX_SIGNATURE_WINDOW_S)
      return fail(
        'unauthorized',
        'psi_stale_signature',
        `x-psi-deadline must be within ${PSI_MAX_SIGNATURE_WINDOW_S} s`,
      )
    if (!m.keys.A || !m.keys.B) return fail('not_ready', 'psi_awaiting_peer', 'Both parties must join first')
    let signer: string
    try {
      signer = recoverPsiRequest(
        m.chainId,
        {
          sessionId: m.sessionId,
          role: roleCode(auth.role),
          action,
          bodyHash,
          nonce: auth.nonce,
          deadline: auth.deadline,
        },
        auth.signature,
      )
    } catch {
      return fail('unauthorized', 'psi_bad_signature', 'The request signature is malformed')
    }
    if (signer !== (auth.role === 'A' ? m.partyA : m.partyB))
      return fail('forbidden', 'psi_not_a_party', `This request is not signed by party ${auth.role}`)
    return undefined
  }

  private spend(auth: PsiAuth): PsiFailure | undefined {
    const used = this.sql.exec('SELECT 1 FROM nonces WHERE role = ? AND nonce = ?', auth.role, auth.nonce).toArray()
    if (used.length) return fail('unauthorized', 'psi_replayed', 'This request signature was used before')
    this.sql.exec('INSERT INTO nonces (role, nonce) VALUES (?, ?)', auth.role, auth.nonce)
    return undefined
  }

  /** Stores a party's encrypted step-1 list (S or T) for the peer; C cannot read it. */
  async putRelay(auth: PsiAuth, body: Uint8Array): Promise<PsiReply<{ bytes: number }>> {
    const admitted = await this.admit('relay', auth, body)
    if (!admitted.ok) return admitted
    const { m, repeat, digest } = admitted.value
    if (repeat) return ok({ bytes: body.length })
    const n = (body.length - 16) / 32
    if (!Number.isInteger(n) || n < 0)
      return fail('invalid', 'psi_bad_relay', 'A relay message is 32 bytes per element plus a 16-byte tag')
    if (n > m.maxElements) return fail('too_large', 'psi_too_many_elements', `At most ${m.maxElements} elements`)
    const sent = this.alreadySent('relay', auth.role)
    if (sent) return sent
    this.putBlob('relay', auth.role, body)
    this.sql.exec('INSERT INTO sent (kind, role, digest) VALUES (?, ?, ?)', 'relay', auth.role, digest)
    return ok({ bytes: body.length })
  }

  /** The peer's encrypted step-1 list, for the other party only. */
  async getRelay(auth: PsiAuth): Promise<PsiReply<Uint8Array>> {
    const live = this.live()
    if (!live.ok) return live
    const bad = this.authorize(live.value, auth, 'get-relay')
    if (bad) return bad
    const peer = other(auth.role)
    if (!this.has('relay', peer))
      return fail('not_ready', 'psi_peer_not_sent', `Party ${peer} has not sent its list yet`)
    return ok(this.getBlob('relay', peer))
  }

  /** Receives U (from A) or V (from B); when both are in, compares them. */
  async putBlinded(auth: PsiAuth, body: Uint8Array): Promise<PsiReply<{ state: SessionStatus['state'] }>> {
    const admitted = await this.admit('blinded', auth, body)
    if (!admitted.ok) return admitted
    const { m, repeat, digest } = admitted.value
    // Not stored, compared or armed again: the answer is the state the session is in now.
    if (repeat) return ok({ state: this.status(m).state })
    if (body.length % 32 !== 0) return fail('invalid', 'psi_bad_blinded', 'Blinded lists are 32 bytes per element')
    const sent = this.alreadySent('blinded', auth.role)
    if (sent) return sent
    // U re-blinds the peer's list, so it must have exactly as many elements as the peer sent.
    const peer = other(auth.role)
    if (!this.has('relay', peer))
      return fail('not_ready', 'psi_peer_not_sent', `Party ${peer} has not sent its list yet`)
    const peerCount = (this.getBlob('relay', peer).length - 16) / 32
    if (body.length / 32 !== peerCount)
      return fail(
        'invalid',
        'psi_count_mismatch',
        `Expected ${peerCount} elements (the peer's list), got ${body.length / 32}`,
      )
    this.putBlob('blinded', auth.role, body)
    this.sql.exec('INSERT INTO sent (kind, role, digest) VALUES (?, ?, ?)', 'blinded', auth.role, digest)
    if (this.has('blinded', peer)) {
      this.compare(m)
      // Commit on chain from the alarm, so a crash or an unreachable chain is retried (commit.ts).
      await this.ctx.storage.setAlarm(Date.now())
    }
    return ok({ state: this.status(m).state })
  }

  /**
   * What an upload passes before its body is looked at: a live session, then a request signed by the
   * party within its window, then either `repeat` — the very bytes this party already sent as `kind` —
   * or a fresh nonce. A repeat is a client resending an upload whose reply it lost, perhaps byte for
   * byte with the nonce the first one spent: it changes nothing, so it is answered as the first was
   * without a nonce being checked or spent (its signature binds this action to these bytes, so it can
   * do nothing else).
   */
  private async admit(
    kind: UploadKind,
    auth: PsiAuth,
    body: Uint8Array,
  ): Promise<PsiReply<{ m: Meta; repeat: boolean; digest: string }>> {
    // Hashed before the session is read, so that no other request runs between these checks and the write.
    const digest = await sha256Hex(body)
    const live = this.live()
    if (!live.ok) return live
    const bad = this.verify(live.value, auth, UPLOAD_ACTION[kind], digest)
    if (bad) return bad
    if (this.sentDigest(kind, auth.role) === digest) return ok({ m: live.value, repeat: true, digest })
    return this.spend(auth) ?? ok({ m: live.value, repeat: false, digest })
  }

  private compare(m: Meta) {
    const u = this.getBlob('blinded', 'A') // A's U = X·T: B's elements, in B's order
    const v = this.getBlob('blinded', 'B') // B's V = Y·S: A's elements, in A's order
    const latin = (b: Uint8Array, i: number) => String.fromCharCode(...b.subarray(32 * i, 32 * i + 32))
    const inU = new Map<string, number>()
    for (let j = 0; j < u.length / 32; j++) inU.set(latin(u, j), j)
    const forA: number[] = []
    const forB: number[] = []
    for (let i = 0; i < v.length / 32; i++) {
      const j = inU.get(latin(v, i))
      if (j === undefined) continue
      forA.push(i)
      forB.push(j)
    }
    forB.sort((x, y) => x - y)
    const digests: PsiMessageDigests = {
      s: messageDigest(this.getBlob('relay', 'A')),
      t: messageDigest(this.getBlob('relay', 'B')),
      u: messageDigest(u),
      v: messageDigest(v),
    }
    const sizes = { A: v.length / 32, B: u.length / 32 }
    const transcriptHash = psiTranscriptHash({
      chainId: m.chainId,
      sessionId: m.sessionId,
      partyA: m.partyA,
      partyB: m.partyB,
      digests,
      sizeA: sizes.A,
      sizeB: sizes.B,
      intersectionSize: forA.length,
    })
    this.sql.exec(
      'INSERT INTO results (role, positions) VALUES (?, ?)',
      'A',
      new Uint8Array(Uint32Array.from(forA).buffer),
    )
    this.sql.exec(
      'INSERT INTO results (role, positions) VALUES (?, ?)',
      'B',
      new Uint8Array(Uint32Array.from(forB).buffer),
    )
    // The singly-blinded relays are no longer needed by anyone: drop them.
    this.sql.exec("DELETE FROM blobs WHERE kind = 'relay'")
    m.result = { intersectionSize: forA.length, transcriptHash, sizes, digests }
    m.commit = { status: 'pending', attempts: 0 }
    this.saveMeta(m)
  }

  /** The comparator's answer for the authenticated party: its own matched positions only. */
  async getResult(auth: PsiAuth): Promise<PsiReply<PsiResult>> {
    const live = this.live()
    if (!live.ok) return live
    const m = live.value
    const bad = this.authorize(m, auth, 'get-result')
    if (bad) return bad
    if (!m.result) return fail('not_ready', 'psi_not_compared', 'Both blinded lists are needed first')
    const row = this.sql
      .exec<{ positions: ArrayBuffer }>('SELECT positions FROM results WHERE role = ?', auth.role)
      .toArray()[0]
    return ok({
      positions: [...new Uint32Array(row.positions.slice(0))],
      ...m.result,
      ...(m.commit ? { commit: { ...m.commit } } : {}),
    })
  }

  /** The chain the transcript is committed to; tests put a recording ledger here (runInDurableObject). */
  protected ledger(): PsiLedger {
    return chainLedger(this.env as Bindings)
  }

  private committing?: Promise<void>

  /**
   * One commit attempt at a time per session (the object may be woken by an alarm while a request
   * awaits); the chain's replay refusal covers any attempt that still overlaps, e.g. across a restart.
   */
  private commitNow(): Promise<void> {
    this.committing ??= (async () => {
      const m = this.meta()
      if (!m || 'expired' in m || !m.result || m.commit?.status !== 'pending') return
      let next: PsiCommitStatus
      try {
        next = await commitTranscript(this.ledger(), {
          sessionId: m.sessionId,
          transcriptHash: m.result.transcriptHash,
          intersectionSize: m.result.intersectionSize,
          attempts: m.commit.attempts,
        })
      } catch (err) {
        if (!(err instanceof PsiCommitRetry)) throw err
        next = { status: 'pending', attempts: m.commit.attempts + 1, error: err.message }
      }
      const latest = this.meta()
      if (!latest || 'expired' in latest) return // expired meanwhile
      latest.commit = next
      this.saveMeta(latest)
    })().finally(() => (this.committing = undefined))
    return this.committing
  }

  /**
   * The one alarm does three jobs: the pending on-chain commit (retried with backoff); then expiry, when
   * the session — consent, transport keys, relays, U, V, results, nonces — is deleted but for a
   * tombstone; then, PSI_TOMBSTONE_S later, the tombstone's deletion.
   */
  override async alarm() {
    const m = this.meta()
    if (!m) return
    // expire() replaced every other alarm with this one.
    if ('expired' in m) {
      this.sql.exec('DELETE FROM meta')
      return
    }
    if (Date.now() >= m.expiresAt * 1000) {
      await this.expire(m)
      return
    }
    if (m.commit?.status === 'pending') await this.commitNow()
    const after = this.meta()
    const retry =
      after?.commit?.status === 'pending' ? Date.now() + commitBackoffS(after.commit.attempts) * 1000 : Infinity
    await this.ctx.storage.setAlarm(Math.min(retry, m.expiresAt * 1000))
  }

  private async expire(m: Meta) {
    const commit = commitAtExpiry(m.commit)
    const tombstone: Tombstone = {
      expired: true,
      ...termsOf(m),
      ...(m.result
        ? { result: { intersectionSize: m.result.intersectionSize, transcriptHash: m.result.transcriptHash } }
        : {}),
      ...(commit ? { commit } : {}),
    }
    this.sql.exec('DELETE FROM blobs; DELETE FROM results; DELETE FROM nonces; DELETE FROM sent;')
    this.saveMeta(tombstone)
    await this.ctx.storage.setAlarm((m.expiresAt + PSI_TOMBSTONE_S) * 1000)
  }
}
