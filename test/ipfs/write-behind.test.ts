// The add path's write-behind store: puts are acknowledged early, bounded, and never lost silently.

import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { WriteBehind } from '../../ipfs/src/repo/write-behind'
import { rawCidV1 } from './support/cid-spec'

const cid = CID.parse(rawCidV1(new Uint8Array(0)))

function gate() {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return { open, opened }
}

describe('WriteBehind', () => {
  it('acknowledges puts before they are written, and flush waits for them', async () => {
    const g = gate()
    const written: number[] = []
    const store = new WriteBehind(
      { put: async (c: CID, b: Uint8Array) => (await g.opened, written.push(b.byteLength), c) },
      1000,
    )
    await store.put(cid, new Uint8Array(10))
    await store.put(cid, new Uint8Array(20))
    expect(written).toEqual([])
    const flushed = store.flush()
    g.open()
    await flushed
    expect(written.sort()).toEqual([10, 20])
  })

  it('holds a put back while maxBytes are in flight', async () => {
    const g = gate()
    const store = new WriteBehind({ put: async (c: CID) => (await g.opened, c) }, 100)
    await store.put(cid, new Uint8Array(80))
    let second = false
    const p = store.put(cid, new Uint8Array(80)).then(() => (second = true))
    await new Promise((resolve) => setImmediate(resolve))
    expect(second).toBe(false)
    g.open()
    await p
    await store.flush()
  })

  it('reports a failed write from flush and from later puts', async () => {
    const store = new WriteBehind({ put: async () => Promise.reject(new Error('disk full')) })
    await store.put(cid, new Uint8Array(1))
    await expect(store.flush()).rejects.toThrow('disk full')
    await expect(store.put(cid, new Uint8Array(1))).rejects.toThrow('disk full')
  })
})
