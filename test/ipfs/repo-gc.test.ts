// repo/gc: uploads nobody pinned are removed once they are older than the grace period; whatever a pin
// reaches, and anything younger, stays readable — also after a restart.

import { afterEach, describe, expect, it } from 'vitest'
import { seededBytes } from './support/bytes'
import { startTestNode, type TestNode } from './support/node'

const KiB = 1024
let node: TestNode | undefined
afterEach(async () => {
  await node?.destroy()
  node = undefined
})

const gc = async (n: TestNode): Promise<string[]> => {
  const res = await n.rpc('repo/gc')
  expect(res.status).toBe(200)
  const text = await res.text()
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as { Key: { '/': string } }).Key['/'])
}
const numObjects = async (n: TestNode) =>
  ((await (await n.rpc('repo/stat')).json()) as { NumObjects: number }).NumObjects
const held = async (n: TestNode, cid: string) => (await n.rpc('block/stat', `arg=${cid}`)).status === 200
const cat = async (n: TestNode, cid: string) => Buffer.from(await (await n.rpc('cat', `arg=${cid}`)).arrayBuffer())

describe('repo/gc', () => {
  it('removes unpinned uploads past the grace period and keeps pinned DAGs whole', async () => {
    node = await startTestNode({ gcGraceSeconds: 0 })
    const kept = seededBytes('gc-kept', 600 * KiB) // three leaves under a root
    const dropped = seededBytes('gc-dropped', 600 * KiB)
    const keptCid = (await node.client.add(kept, { cidVersion: 1, pin: true })).cid.toString()
    const droppedCid = (await node.client.add(dropped, { cidVersion: 1, pin: false })).cid.toString()
    const before = await numObjects(node)

    const removed = await gc(node)
    expect(removed).toHaveLength(4) // the unpinned file's root and its three leaves
    expect(await held(node, droppedCid)).toBe(false)
    expect(await numObjects(node)).toBe(before - 4)
    expect(await cat(node, keptCid)).toEqual(kept)
    // A second collection finds nothing more, and a restart does not bring anything back.
    expect(await gc(node)).toEqual([])
    node = await node.restart()
    expect(await held(node, droppedCid)).toBe(false)
    expect(await cat(node, keptCid)).toEqual(kept)
  })

  it('keeps a pack one of whose blocks a pin reaches, and blocks unpinned then re-pinned', async () => {
    node = await startTestNode({ gcGraceSeconds: 0 })
    // Two files in one upload pack (one add request): pinning one keeps the pack, so both stay.
    const a = seededBytes('gc-a', 10 * KiB)
    const b = seededBytes('gc-b', 10 * KiB)
    const added = []
    for await (const entry of node.client.addAll([{ content: a }, { content: b }], { cidVersion: 1, pin: false })) {
      added.push(entry.cid.toString())
    }
    expect((await node.rpc('pin/add', `arg=${added[0]}`)).status).toBe(200)
    expect(await gc(node)).toEqual([])
    expect(await cat(node, added[1])).toEqual(b)
    // Unpinned again, the pack goes.
    expect((await node.rpc('pin/rm', `arg=${added[0]}`)).status).toBe(200)
    expect((await gc(node)).sort()).toEqual([...added].sort())
  })

  it('keeps an old pack whose blocks a newer upload reused instead of writing them again', async () => {
    node = await startTestNode({ gcGraceSeconds: 2 })
    const bytes = seededBytes('gc-reused', 300 * KiB)
    const cid = (await node.client.add(bytes, { cidVersion: 1, pin: false })).cid.toString()
    await new Promise((r) => setTimeout(r, 2500))
    // The same bytes again: every block is already held, so this upload writes none and needs the old pack.
    expect((await node.client.add(bytes, { cidVersion: 1, pin: false })).cid.toString()).toBe(cid)
    expect(await gc(node), 'right after the reuse').toEqual([])
    expect(await cat(node, cid)).toEqual(bytes)
    // Remembered across a restart (the index's mtime), and collected once the grace period passes again.
    node = await node.restart()
    expect(await gc(node), 'after a restart').toEqual([])
    await new Promise((r) => setTimeout(r, 2500))
    expect(await gc(node)).toHaveLength(3)
  })

  it('keeps unpinned uploads younger than the grace period', async () => {
    node = await startTestNode() // default grace: a day
    const bytes = seededBytes('gc-young', 300 * KiB)
    const cid = (await node.client.add(bytes, { cidVersion: 1, pin: false })).cid.toString()
    expect(await gc(node)).toEqual([])
    expect(await cat(node, cid)).toEqual(bytes)
  })

  it('refuses a grace period or interval that is not a whole number of seconds, before opening the repo', async () => {
    const { startIpfsNode } = await import('../../ipfs/src/index')
    const repo = '/nonexistent/stillflow-gc-options'
    for (const bad of [{ gcGraceSeconds: -1 }, { gcIntervalSeconds: 1.5 }, { gcIntervalSeconds: Number.NaN }]) {
      await expect(startIpfsNode({ repo, apiPort: 0, gatewayPort: 0, ...bad })).rejects.toThrow(
        /must be a non-negative integer/,
      )
    }
  })

  it('refuses GET like every RPC command, and options it does not have, removing nothing', async () => {
    node = await startTestNode({ gcGraceSeconds: 0 })
    const cid = (
      await node.client.add(seededBytes('gc-options', 4 * KiB), { cidVersion: 1, pin: false })
    ).cid.toString()
    expect((await fetch(`${node.apiUrl}/api/v0/repo/gc`)).status).toBe(405)
    const res = await node.rpc('repo/gc', 'grace=0')
    expect(res.status).toBe(400)
    expect(((await res.json()) as { Message: string }).Message).toMatch(/option "grace" is not supported/)
    expect((await node.rpc('repo/gc', 'quiet=maybe')).status).toBe(400)
    expect(await held(node, cid)).toBe(true)
    // The same node, asked as Kubo's client asks (with a global option), collects it.
    const removed: string[] = []
    for await (const r of node.client.repo.gc({ timeout: 30_000 })) removed.push(String(r.cid))
    expect(removed).toContain(cid)
  })
})
