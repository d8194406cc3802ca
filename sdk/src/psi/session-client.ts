// A party's client for the worker's PSI sessions (/api/psi/sessions): signs every request, runs the
// protocol through the session, and returns this party's matched items. Works wherever fetch does.
import { sha256 } from '@noble/hashes/sha2.js'
import { getAddress } from 'ethers'
import { fromHex, packElements, toHex, unpackElements } from './bytes'
import {
  PSI_AUTH_HEADERS,
  roleCode,
  signParticipation,
  signPsiRequest,
  type PsiAction,
  type PsiRole,
  type TypedDataSigner,
} from './consent'
import { ELEMENT_BYTES } from './constants'
import type { PsiEngine } from './engine'
import { createPsiParty, type PsiOutcome, type PsiProgress } from './party'
import { cryptoRandomBytes, type RandomBytes } from './random'
import { generateTransportKey, openRelay, RELAY_OVERHEAD, sealRelay, type TransportKeyPair } from './relay-crypto'
import { messageDigest, psiTranscriptHash, type PsiMessageDigests, type PsiTranscript } from './transcript'

/** The session as the worker describes it (GET /api/psi/sessions/:id). */
export interface PsiSessionInfo {
  sessionId: string
  chainId: number
  partyA: string
  partyB: string
  maxElements: number
  expiresAt: number
  state: 'awaiting-peer' | 'exchanging' | 'comparing' | 'done'
  joined: { A: boolean; B: boolean }
  transportKeys: { A?: string; B?: string }
  /** The on-chain commitment of the transcript (ComputeLedger.commitPsi), once the lists are compared. */
  commit?: PsiCommitStatus
}

/**
 * `pending`: not yet on chain (retried with backoff until it is or the session expires); `committed`:
 * mined in `txHash`; `failed`: will not be retried (`error` says why: no chain configured, a refusal).
 */
export interface PsiCommitStatus {
  status: 'pending' | 'committed' | 'failed'
  attempts: number
  txHash?: string
  blockNumber?: number
  error?: string
}

export interface PsiSessionResult {
  positions: number[]
  intersectionSize: number
  transcriptHash: string
  sizes: { A: number; B: number }
  /** What C received, by SHA-256: each party checks the ones it knows and uses the rest (transcript.ts). */
  digests: PsiMessageDigests
  commit?: PsiCommitStatus
}

/** A refusal from the worker, with its machine-readable code. */
export class PsiSessionError extends Error {
  override name = 'PsiSessionError'
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

export interface PsiClientOptions {
  /** API base, e.g. http://127.0.0.1:8787/api */
  api: string
  signer: TypedDataSigner
  fetch?: typeof fetch
  random?: RandomBytes
  /** Clock in Unix seconds (signature deadlines). */
  now?: () => number
}

const STALE_SOCKET = new Set(['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'])

function isStaleSocket(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } } | null)?.cause
  return err instanceof TypeError && typeof cause?.code === 'string' && STALE_SOCKET.has(cause.code)
}

/**
 * When a request that failed below HTTP (fetch threw) is sent again:
 * - `stale-socket`: once, and only when it failed on a keep-alive socket the server had closed, so it
 *   never arrived. For create and join, which must not run twice.
 * - `network`: after any network failure (fetch's TypeError: a reset, a timeout), waiting
 *   NETWORK_RETRY_MS between attempts. For reads, and for the uploads the worker answers again as
 *   the first time when the bytes are the same.
 */
type Resend = 'stale-socket' | 'network'

/** The waits before the second and third attempt of a `network` request. */
const NETWORK_RETRY_MS = [200, 1000]

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export class PsiSessionClient {
  private readonly f: typeof fetch
  private readonly random: RandomBytes
  private readonly now: () => number

  constructor(private readonly opts: PsiClientOptions) {
    this.f = opts.fetch ?? ((...a) => fetch(...a))
    this.random = opts.random ?? cryptoRandomBytes
    this.now = opts.now ?? (() => Math.floor(Date.now() / 1000))
  }

  private url(path: string) {
    return `${this.opts.api.replace(/\/$/, '')}/psi/sessions${path}`
  }

  /**
   * Sends a request, and again as `resend` allows; `request` is built anew for every attempt (a signed
   * read needs a nonce its earlier attempt may have spent).
   */
  private async call(
    path: string,
    request: RequestInit | (() => Promise<RequestInit>),
    resend: Resend = 'stale-socket',
  ): Promise<Response> {
    let res: Response
    for (let attempt = 1; ; attempt++) {
      try {
        res = await this.f(this.url(path), typeof request === 'function' ? await request() : request)
        break
      } catch (err) {
        if (resend === 'network' && err instanceof TypeError && attempt <= NETWORK_RETRY_MS.length) {
          await sleep(NETWORK_RETRY_MS[attempt - 1])
          continue
        }
        // A keep-alive socket the server closed while this party computed fails the next request as it is
        // written (EPIPE, "other side closed"): it never arrived, so it is sent once more on a fresh socket.
        if (resend === 'stale-socket' && isStaleSocket(err) && attempt === 1) continue
        throw err
      }
    }
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { error?: { code?: string; message?: string } }
      throw new PsiSessionError(
        res.status,
        body.error?.code ?? `http_${res.status}`,
        body.error?.message ?? res.statusText,
      )
    }
    return res
  }

  /**
   * `action` on session `s` as party `role`, signed when an attempt is made: every attempt carries a fresh
   * nonce and deadline. An upload's body is `body`; a read has none.
   */
  private signed(s: PsiSessionInfo, role: PsiRole, action: PsiAction, body?: Uint8Array) {
    const bodyHash = '0x' + toHex(sha256(body ?? new Uint8Array()))
    return async (): Promise<RequestInit> => {
      const nonce = BigInt('0x' + toHex(this.random(8))).toString()
      const deadline = this.now() + 300
      const signature = await signPsiRequest(this.opts.signer, s.chainId, {
        sessionId: s.sessionId,
        role: roleCode(role),
        action,
        bodyHash,
        nonce,
        deadline,
      })
      const headers = {
        [PSI_AUTH_HEADERS.role]: role,
        [PSI_AUTH_HEADERS.nonce]: nonce,
        [PSI_AUTH_HEADERS.deadline]: String(deadline),
        [PSI_AUTH_HEADERS.signature]: signature,
      }
      if (!body) return { method: 'GET', headers }
      return {
        method: 'PUT',
        headers: { ...headers, 'content-type': 'application/octet-stream' },
        body: body as BodyInit,
      }
    }
  }

  /** A new transport key pair and a fresh random session id. */
  newSessionId(): string {
    return '0x' + toHex(this.random(32))
  }

  async describe(sessionId: string): Promise<PsiSessionInfo> {
    return (await (await this.call(`/${sessionId}`, { method: 'GET' }, 'network')).json()) as PsiSessionInfo
  }

  /** Creates a session in which we take `role`; returns the session and our transport key (keep it). */
  async create(p: {
    sessionId: string
    chainId: number
    partyA: string
    partyB: string
    maxElements: number
    expiresAt: number
    role: PsiRole
  }): Promise<{ session: PsiSessionInfo; transport: TransportKeyPair }> {
    const transport = generateTransportKey(this.random)
    const transportKey = '0x' + toHex(transport.publicKey)
    const partyA = getAddress(p.partyA)
    const partyB = getAddress(p.partyB)
    const signature = await signParticipation(this.opts.signer, p.chainId, {
      sessionId: p.sessionId,
      partyA,
      partyB,
      role: roleCode(p.role),
      maxElements: p.maxElements,
      expiresAt: p.expiresAt,
      transportKey,
    })
    const res = await this.call('', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...p, partyA, partyB, transportKey, signature }),
    })
    return { session: (await res.json()) as PsiSessionInfo, transport }
  }

  /** Joins a session created by the counterparty, after reading and checking its terms. */
  async join(sessionId: string, role: PsiRole): Promise<{ session: PsiSessionInfo; transport: TransportKeyPair }> {
    const s = await this.describe(sessionId)
    const me = getAddress(await this.opts.signer.getAddress())
    if ((role === 'A' ? s.partyA : s.partyB) !== me) throw new Error(`this signer (${me}) is not party ${role}`)
    const transport = generateTransportKey(this.random)
    const transportKey = '0x' + toHex(transport.publicKey)
    const signature = await signParticipation(this.opts.signer, s.chainId, {
      sessionId: s.sessionId,
      partyA: s.partyA,
      partyB: s.partyB,
      role: roleCode(role),
      maxElements: s.maxElements,
      expiresAt: s.expiresAt,
      transportKey,
    })
    const res = await this.call(`/${sessionId}/join`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role, transportKey, signature }),
    })
    return { session: (await res.json()) as PsiSessionInfo, transport }
  }

  private async until<T>(what: () => Promise<T>, pollMs: number, deadline: number): Promise<T> {
    for (;;) {
      try {
        return await what()
      } catch (err) {
        const waiting =
          err instanceof PsiSessionError && err.status === 409 && /not_sent|awaiting|not_compared/.test(err.code)
        if (!waiting || this.now() > deadline) throw err
        await new Promise((r) => setTimeout(r, pollMs))
      }
    }
  }

  /**
   * Our transcript of the session (transcript.ts), from the three messages we hold byte for byte and the
   * peer's step-2 digest as C reports it, checked against C's own claims. If C reported the peer's digest
   * falsely, the peer's check fails instead: together the two checks pin every field of the hash.
   */
  private checkTranscript(
    s: PsiSessionInfo,
    role: PsiRole,
    mine: { sealed: Uint8Array; peerSealed: Uint8Array; blinded: Uint8Array },
    result: PsiSessionResult,
  ): PsiTranscript {
    const own = messageDigest(mine.sealed)
    const peer = messageDigest(mine.peerSealed)
    const blinded = messageDigest(mine.blinded)
    const digests: PsiMessageDigests =
      role === 'A'
        ? { s: own, t: peer, u: blinded, v: result.digests.v }
        : { s: peer, t: own, u: result.digests.u, v: blinded }
    const ownCount = (mine.sealed.length - RELAY_OVERHEAD) / ELEMENT_BYTES
    const peerCount = (mine.peerSealed.length - RELAY_OVERHEAD) / ELEMENT_BYTES
    const transcript: PsiTranscript = {
      chainId: s.chainId,
      sessionId: s.sessionId,
      partyA: s.partyA,
      partyB: s.partyB,
      digests,
      sizeA: role === 'A' ? ownCount : peerCount,
      sizeB: role === 'A' ? peerCount : ownCount,
      intersectionSize: result.positions.length,
    }
    const claimed = result.digests as unknown as Record<string, string>
    for (const k of ['s', 't', 'u', 'v'] as const)
      if (claimed[k]?.toLowerCase() !== digests[k])
        throw new PsiSessionError(
          502,
          'psi_transcript_mismatch',
          `C reports a different ${k.toUpperCase()} than was sent`,
        )
    if (result.intersectionSize !== transcript.intersectionSize)
      throw new PsiSessionError(502, 'psi_transcript_mismatch', 'C reports an intersection size unlike our positions')
    if (result.transcriptHash.toLowerCase() !== psiTranscriptHash(transcript))
      throw new PsiSessionError(502, 'psi_transcript_mismatch', "C's transcript hash is not the hash of this session")
    return transcript
  }

  /**
   * Waits until the session's transcript is committed on chain (or the commit has failed for good) and
   * returns the commit status; `timeoutS` bounds the wait.
   */
  async waitForCommit(sessionId: string, opts: { pollMs?: number; timeoutS?: number } = {}): Promise<PsiCommitStatus> {
    const deadline = this.now() + (opts.timeoutS ?? 120)
    for (;;) {
      const { commit } = await this.describe(sessionId)
      if (commit && commit.status !== 'pending') return commit
      if (this.now() > deadline)
        throw new PsiSessionError(
          504,
          'psi_commit_timeout',
          `The transcript is not on chain after ${opts.timeoutS ?? 120} s`,
        )
      await new Promise((r) => setTimeout(r, opts.pollMs ?? 500))
    }
  }

  /**
   * Runs our side of the protocol through the session: S (or T) encrypted to the peer, the peer's list
   * re-blinded into U (or V) for C, then C's answer mapped back to our items.
   */
  async run(p: {
    sessionId: string
    role: PsiRole
    transport: TransportKeyPair
    items: readonly string[]
    engine: PsiEngine
    onProgress?: (p: PsiProgress | { phase: 'waiting-for-peer' | 'waiting-for-result' }) => void
    pollMs?: number
    /** Give up waiting for the peer after this many seconds (default: until the session expires). */
    timeoutS?: number
  }): Promise<PsiOutcome & PsiSessionResult & { transcript: PsiTranscript }> {
    const s = await this.describe(p.sessionId)
    const peer: PsiRole = p.role === 'A' ? 'B' : 'A'
    const peerKeyHex = s.transportKeys[peer]
    if (!peerKeyHex) throw new PsiSessionError(409, 'psi_awaiting_peer', 'The counterparty has not joined yet')
    if (s.maxElements < new Set(p.items).size)
      throw new PsiSessionError(413, 'psi_too_many_elements', `This session allows at most ${s.maxElements} elements`)
    const peerKey = fromHex(peerKeyHex)
    const sid = fromHex(s.sessionId)
    const deadline = Math.min(s.expiresAt, p.timeoutS ? this.now() + p.timeoutS : Infinity)
    const pollMs = p.pollMs ?? 500
    const party = createPsiParty({ items: p.items, engine: p.engine, random: this.random, onProgress: p.onProgress })
    try {
      const own = packElements(await party.blindOwn(), ELEMENT_BYTES)
      const sealed = await sealRelay(p.transport, peerKey, sid, p.role, own)
      await this.call(`/${s.sessionId}/relay`, this.signed(s, p.role, 'put-relay', sealed), 'network')
      p.onProgress?.({ phase: 'waiting-for-peer' })
      const peerSealed = await this.until(
        async () =>
          new Uint8Array(
            await (
              await this.call(`/${s.sessionId}/relay`, this.signed(s, p.role, 'get-relay'), 'network')
            ).arrayBuffer(),
          ),
        pollMs,
        deadline,
      )
      const peerList = unpackElements(await openRelay(p.transport, peerKey, sid, peer, peerSealed), ELEMENT_BYTES)
      const blinded = packElements(await party.blindPeer(peerList), ELEMENT_BYTES)
      await this.call(`/${s.sessionId}/blinded`, this.signed(s, p.role, 'put-blinded', blinded), 'network')
      p.onProgress?.({ phase: 'waiting-for-result' })
      const result = await this.until(
        async () =>
          (await (
            await this.call(`/${s.sessionId}/result`, this.signed(s, p.role, 'get-result'), 'network')
          ).json()) as PsiSessionResult,
        pollMs,
        deadline,
      )
      const transcript = this.checkTranscript(s, p.role, { sealed, peerSealed, blinded }, result)
      return { ...party.resolve(result.positions), ...result, transcript }
    } finally {
      party.dispose()
    }
  }
}
