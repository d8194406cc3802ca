// The hand-off behind one-pass publishing (sdk/src/upload.ts): one encryption pass feeds the upload and
// the client's own CID computation. Every chunk reaches both, in order, with at most one waiting; and
// however either side stops, the other is not left hanging.
import { describe, expect, it } from 'vitest'
import { feeding, Handoff } from '../../sdk/src/upload'

const chunks = (n: number) => Array.from({ length: n }, (_, i) => new Uint8Array([i]))
async function* from(items: Uint8Array[], failAt = -1) {
  for (const [i, c] of items.entries()) {
    if (i === failAt) throw new Error('the file could not be read')
    yield c
  }
}
async function drain(it: AsyncIterable<Uint8Array>): Promise<number[]> {
  const out: number[] = []
  for await (const c of it) out.push(c[0])
  return out
}

describe('Handoff and feeding', () => {
  it('gives both readers every chunk in order, the producer never more than one chunk ahead', async () => {
    const feed = new Handoff<Uint8Array>()
    let produced = 0
    let consumedBySecond = 0
    const second = (async () => {
      const out: number[] = []
      for await (const c of feed) {
        expect(produced - consumedBySecond).toBeLessThanOrEqual(1)
        consumedBySecond++
        out.push(c[0])
        await new Promise((r) => setTimeout(r, 1)) // a slow reader
      }
      return out
    })()
    const first = await drain(
      (async function* () {
        for await (const c of feeding(from(chunks(20)), feed)) {
          produced++
          yield c
        }
      })(),
    )
    expect(first).toEqual([...Array(20).keys()])
    expect(await second).toEqual([...Array(20).keys()])
  })

  it('ends the second reader with the source’s error when the source fails', async () => {
    const feed = new Handoff<Uint8Array>()
    const second = drain(feed)
    await expect(drain(feeding(from(chunks(5), 3), feed))).rejects.toThrow('could not be read')
    await expect(second).rejects.toThrow('could not be read')
  })

  it('ends the second reader when the upload stops reading early', async () => {
    const feed = new Handoff<Uint8Array>()
    const second = drain(feed)
    for await (const c of feeding(from(chunks(10)), feed)) if (c[0] === 2) break
    await expect(second).rejects.toThrow('stopped before the end')
  })

  it('does not hold the upload back when the second reader gives up', async () => {
    const feed = new Handoff<Uint8Array>()
    const second = (async () => {
      for await (const c of feed) if (c[0] === 1) throw new Error('CID computation failed')
    })()
    expect(await drain(feeding(from(chunks(8)), feed))).toEqual([...Array(8).keys()])
    await expect(second).rejects.toThrow('CID computation failed')
  })
})
