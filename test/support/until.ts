// Polls a probe until it yields a value: for end-to-end tests waiting on the indexer or a job, where the
// wait is for something a user would also wait for (never a timed assertion).

/** Resolves with the probe's first defined value; a probe that throws counts as "not yet". */
export async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1000))
  }
}
