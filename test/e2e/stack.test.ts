// The processes `npm start` runs, started on free ports in a scratch data folder, checked the way a
// person would: health, the home page in a real browser, a restart that keeps .data, a clean stop.
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { create } from 'kubo-rpc-client'
import { freePorts, startStack, StackError, type Stack, type StackPorts } from '../../scripts/stack'
import { assertPortFree } from '../../scripts/stack/processes'
import { computeMeasurement } from '../../tee-sim/src/platform/measurement'
import { chromiumPath, launchBrowser } from '../support/browser'

const root = process.cwd()
type Health = { ok: boolean; components: Record<string, Record<string, unknown> & { ok: boolean }> }

async function health(stack: Stack): Promise<{ status: number; body: Health }> {
  const res = await fetch(`${stack.urls.api}/health`)
  return { status: res.status, body: (await res.json()) as Health }
}

describe('npm start', () => {
  let dataDir: string
  let ports: StackPorts
  let stack: Stack

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-e2e-'))
    ports = await freePorts()
    stack = await startStack({ root, dataDir, ports })
  })
  afterAll(async () => {
    await stack?.stop()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('reaches all-green health with the deployed contracts and the enclave of this checkout', async () => {
    const { status, body } = await health(stack)
    expect(status).toBe(200)
    expect(body.ok).toBe(true)
    const { chain, ipfs, enclave, d1 } = body.components
    expect(chain).toMatchObject({ ok: true, chainId: 31337, contracts: stack.addressBook.contracts })
    expect(Object.keys(stack.addressBook.contracts).sort()).toEqual([
      'ComputeLedger',
      'DataAssetNFT',
      'DataMarket',
      'EnclaveRegistry',
      'LedgerAnchor',
      'PsiComparator',
    ])
    expect(ipfs.ok).toBe(true)
    expect(typeof ipfs.version).toBe('string')
    expect(enclave).toMatchObject({
      ok: true,
      measurement: computeMeasurement({ repoRoot: root }).measurement,
      measurementApproved: true,
      registered: true,
    })
    const migrations = readdirSync(join(root, 'worker', 'migrations'))
      .filter((f) => f.endsWith('.sql'))
      .sort()
    expect(d1).toMatchObject({ ok: true, migration: migrations.at(-1), applied: migrations.length })
  })

  it.skipIf(!chromiumPath())(
    // Skipped only where chromium is absent; .ci/run installs it, so CI always runs this.
    'shows the health of every component on the home page in a browser, also at 375 px',
    async () => {
      const browser = await launchBrowser()
      try {
        mkdirSync(join(root, 'test-results'), { recursive: true })
        for (const width of [1280, 375]) {
          const page = await browser.newPage({ viewport: { width, height: 900 } })
          const res = await page.goto(stack.urls.site)
          expect(res?.status()).toBe(200)
          await expect(page.locator('h1').textContent()).resolves.toMatch(/right to compute/)
          await expect(page.locator('[role=status]').textContent()).resolves.toMatch(
            /Every component of the marketplace is up/,
          )
          const rows = page.locator('tr[data-component]')
          expect(await rows.count()).toBe(4)
          for (const name of ['chain', 'ipfs', 'enclave', 'd1']) {
            await expect(page.locator(`tr[data-component=${name}]`).getAttribute('data-ok')).resolves.toBe('true')
          }
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
          expect(overflow).toBeLessThanOrEqual(0)
          await page.screenshot({ path: join(root, 'test-results', `home-${width}.png`), fullPage: true })
          await page.close()
        }
      } finally {
        await browser.close()
      }
    },
  )

  it('restarts on the same data folder and keeps IPFS content and the enclave identity', async () => {
    const ipfs = create({ url: `${stack.urls.ipfsApi}/api/v0` })
    const bytes = new TextEncoder().encode(`kept across restarts ${dataDir}`)
    const { cid } = await ipfs.add(bytes, { cidVersion: 1, rawLeaves: true })
    const before = (await health(stack)).body.components.enclave
    await stack.stop()
    for (const port of Object.values(ports)) await assertPortFree('after stop', '127.0.0.1', port)

    stack = await startStack({ root, dataDir, ports })
    const after = await health(stack)
    expect(after.body.ok).toBe(true)
    expect(after.body.components.enclave.signer).toBe(before.signer)
    const chunks: Uint8Array[] = []
    for await (const c of create({ url: `${stack.urls.ipfsApi}/api/v0` }).cat(cid)) chunks.push(c)
    expect(Buffer.concat(chunks).toString()).toBe(Buffer.from(bytes).toString())
  })
})

describe('npm start when a port is taken', () => {
  it('names the component and the port, and leaves nothing running', async () => {
    const ports = await freePorts()
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen({ host: '127.0.0.1', port: ports.enclave }, r))
    const dataDir = mkdtempSync(join(tmpdir(), 'stillflow-e2e-busy-'))
    try {
      const err = await startStack({ root, dataDir, ports }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StackError)
      expect((err as StackError).component).toBe('enclave')
      expect((err as StackError).reason).toMatch(new RegExp(`port ${ports.enclave} on 127.0.0.1 is already in use`))
      for (const [name, port] of Object.entries(ports))
        if (name !== 'enclave') await assertPortFree(name, '127.0.0.1', port)
    } finally {
      blocker.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('npm start when a component cannot start', () => {
  it('names the component with its reason and stops the ones already running', async () => {
    const ports = await freePorts()
    const dataDir = mkdtempSync(join(tmpdir(), 'stillflow-e2e-broken-'))
    // The enclave's data folder is a file: the enclave host cannot create its sealed state there.
    writeFileSync(join(dataDir, 'enclave'), 'not a folder')
    try {
      const err = await startStack({ root, dataDir, ports }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StackError)
      expect((err as StackError).component).toBe('enclave')
      expect((err as StackError).reason).toMatch(/exited with code [1-9]/)
      for (const [name, port] of Object.entries(ports)) await assertPortFree(name, '127.0.0.1', port)
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
