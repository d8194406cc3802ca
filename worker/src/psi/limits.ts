// The limits of a PSI session held by the worker: how many elements, how long, how fresh a signature.

/** Most elements per side (8 MiB per list at 32 B each; Durable Object RPC carries ≤ 32 MiB). */
export const PSI_MAX_ELEMENTS = 262_144
/** Longest a session may live, in seconds. */
export const PSI_MAX_LIFETIME_S = 24 * 3600
/** A request signature's deadline may be at most this far ahead, in seconds. */
export const PSI_MAX_SIGNATURE_WINDOW_S = 600
/** Bytes per stored chunk (a SQLite row in a Durable Object holds at most 2 MB). */
export const PSI_CHUNK_BYTES = 1 << 20
/**
 * How long an expired session's tombstone (its terms, result summary and commit status, no lists) is
 * kept, in seconds. A party whose run broke may come back days later, e.g. a CLI retried after a
 * weekend; it should read "expired at …, start a new session", not "no such session". Bounded, because
 * the tombstone still names both parties, and nothing but that message needs it.
 */
export const PSI_TOMBSTONE_S = 30 * 24 * 3600
