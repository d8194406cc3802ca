// Clients that misbehave at the transport level: the node answers or drops them, never crashes,
// and logs nothing (TestNode.destroy fails the file if it did).

import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { seededBytes } from './support/bytes'
import { startTestNode, type TestNode } from './support/node'

let node: TestNode
beforeAll(async () => {
  node = await startTestNode()
})
afterAll(async () => {
  await node.destroy()
})

describe('clients that hang up', () => {
  it('a cat or gateway download abandoned half-way neither crashes nor logs the node', async () => {
    const { cid } = await node.client.add(seededBytes('hang-up', 32 * 1024 * 1024), { cidVersion: 1 })
    for (const url of [
      `${node.apiUrl}/api/v0/cat?arg=${cid}`,
      `${node.gatewayUrl}/ipfs/${cid}?format=car`,
      `${node.gatewayUrl}/ipfs/${cid}`,
    ]) {
      const controller = new AbortController()
      const res = await fetch(url, { method: url.includes('/api/') ? 'POST' : 'GET', signal: controller.signal })
      const reader = (res.body as ReadableStream<Uint8Array>).getReader()
      await reader.read()
      controller.abort()
      await reader.read().catch(() => undefined)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await node.client.version()).version).toBeTruthy()
  })

  it('an upload cut off half-way leaves the node serving', async () => {
    const url = new URL(node.apiUrl)
    await new Promise<void>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () => {
        socket.write(
          'POST /api/v0/add HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n',
        )
        socket.write('--b\r\nContent-Disposition: form-data; name="file"\r\n\r\npartial', () => socket.destroy())
      })
      socket.on('close', () => resolve())
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect((await node.client.version()).version).toBeTruthy()
  })

  it('an unparsable absolute request target gets 400', async () => {
    const url = new URL(node.apiUrl)
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(Number(url.port), url.hostname, () =>
        socket.write('POST http://[bad/api/v0/version HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      )
      let text = ''
      socket.on('data', (d) => (text += d))
      socket.on('close', () => resolve(text))
    })
    expect(reply).toMatch(/^HTTP\/1.1 400/)
  })
})
