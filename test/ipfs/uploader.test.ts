// PUT /upload on the gateway listener: a ticket starts at most one upload, also across a restart of the
// node (the taken ids live in the repo, not only in memory).

import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUploadTicket } from '../../ipfs/src/index'
import { seededBytes } from './support/bytes'
import { startTestNode, type TestNode } from './support/node'

const key = randomBytes(32)
let node: TestNode
beforeAll(async () => {
  node = await startTestNode({ uploadTicketKey: key })
})
afterAll(async () => {
  await node.destroy()
})

const now = () => Math.floor(Date.now() / 1000)
const ticketFor = (size: number, expiresAt = now() + 600) =>
  signUploadTicket(key, { id: randomBytes(16).toString('hex'), cid: null, size, owner: '0x0', expiresAt })
const put = (n: TestNode, ticket: string, body: Uint8Array<ArrayBuffer>) =>
  fetch(`${n.gatewayUrl}/upload`, { method: 'PUT', headers: { 'x-stillflow-ticket': ticket }, body })

describe('the uploader', () => {
  it('takes a ticket once, and still refuses it after the node restarts', async () => {
    const bytes = new Uint8Array(seededBytes('upload-once', 300_000))
    const ticket = await ticketFor(bytes.length)
    const first = await put(node, ticket, bytes)
    expect(first.status).toBe(201)
    const { cid } = (await first.json()) as { cid: string }
    expect(cid).toMatch(/^bafy/)

    const replay = await put(node, ticket, bytes)
    expect(replay.status).toBe(409)
    expect(await replay.json()).toMatchObject({ error: { code: 'ticket_used' } })

    node = await node.restart()
    const afterRestart = await put(node, ticket, bytes)
    expect(afterRestart.status).toBe(409)
    expect(await afterRestart.json()).toMatchObject({ error: { code: 'ticket_used' } })
    // A fresh ticket still works after the restart.
    expect((await put(node, await ticketFor(bytes.length), bytes)).status).toBe(201)
  })

  it('forgets expired tickets and skips a line cut short by a crash when it opens the repo', async () => {
    const file = join(node.repo, 'spent-tickets.jsonl')
    const live = JSON.stringify(['still-live', now() + 600])
    await writeFile(file, `${JSON.stringify(['long-gone', now() - 5])}\n${live}\n["torn`)
    node = await node.restart()
    expect((await readFile(file, 'utf8')).trim().split('\n')).toEqual([live])
  })
})
