// The add path's write-behind queue: writes start early, are bounded, and are never lost silently.

import { describe, expect, it } from 'vitest'
import { WriteBehind } from '../../ipfs/src/repo/write-behind'

function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}

describe('WriteBehind', () => {
  it('starts writes at once without waiting for them, and flush waits for them', async () => {
    const g = gate()
    const written: number[] = []
    const queue = new WriteBehind(1000)
    const write = (n: number) => async () => {
      await g.opened
      written.push(n)
    }
    expect(queue.run(10, write(10))).toBeUndefined()
    expect(queue.run(20, write(20))).toBeUndefined()
    expect(written).toEqual([])
    const flushed = queue.flush()
    g.open()
    await flushed
    expect(written.sort()).toEqual([10, 20])
  })

  it('holds a write back while maxBytes are in flight', async () => {
    const g = gate()
    const queue = new WriteBehind(100)
    let started = 0
    const write = () => async () => {
      started++
      await g.opened
    }
    queue.run(80, write())
    const wait = queue.run(80, write())
    expect(wait).toBeInstanceOf(Promise)
    await new Promise((resolve) => setImmediate(resolve))
    expect(started).toBe(1)
    g.open()
    await wait
    expect(started).toBe(2)
    await queue.flush()
  })

  it('reports a failed write from flush and from later runs', async () => {
    const queue = new WriteBehind()
    queue.run(1, async () => Promise.reject(new Error('disk full')))
    await expect(queue.flush()).rejects.toThrow('disk full')
    expect(() => queue.run(1, async () => undefined)).toThrow('disk full')
  })

  it('settle waits for writes and ignores their failures', async () => {
    const queue = new WriteBehind()
    queue.run(1, async () => Promise.reject(new Error('disk full')))
    await expect(queue.settle()).resolves.toBeUndefined()
  })
})
