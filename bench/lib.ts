// The benchmark contract: every benchmark compares a subject with a baseline measured in the same
// run, because absolute timings on a shared 2-core machine are noise.

/** One line of a benchmark report. `ratio` is subject/baseline in the unit `ratioMeaning` names. */
export interface BenchResult {
  name: string
  baseline: string
  subject: string
  /** subject ÷ baseline, as defined by `ratioMeaning`. */
  ratio: number
  ratioMeaning: 'throughput' | 'time' | 'gas'
  /** Human-readable target, e.g. "≥ 0.5" or "≤ 1.8×". */
  target: string
  pass: boolean
  details?: Record<string, number | string>
}

/** Runs `fn` repeatedly for at least `minMs` (after one warm-up call) and returns calls per second. */
export async function opsPerSecond(fn: () => unknown | Promise<unknown>, minMs = 500): Promise<number> {
  await fn()
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < minMs) {
    await fn()
    n++
    elapsed = performance.now() - start
  }
  return (n * 1000) / elapsed
}

/** Times one async call in milliseconds. */
export async function timeMs(fn: () => unknown | Promise<unknown>): Promise<number> {
  const start = performance.now()
  await fn()
  return performance.now() - start
}

/**
 * Interleaves baseline and subject `rounds` times and keeps the best of each, so a burst of load
 * from another process hurts both sides rather than one.
 */
export async function bestOfInterleaved(
  baseline: () => Promise<number>,
  subject: () => Promise<number>,
  rounds = 3,
  better: 'higher' | 'lower' = 'higher',
): Promise<{ baseline: number; subject: number }> {
  const pick = (a: number, b: number) => (better === 'higher' ? Math.max(a, b) : Math.min(a, b))
  let b = better === 'higher' ? -Infinity : Infinity
  let s = b
  for (let i = 0; i < rounds; i++) {
    b = pick(b, await baseline())
    s = pick(s, await subject())
  }
  return { baseline: b, subject: s }
}
