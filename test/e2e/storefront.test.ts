// The storefront in a real browser against the processes `npm start` runs (issue 7, server-rendered part):
// the demo datasets and one CSV published with the CLI, then home, browse (search and tag filter), the
// asset page (schema, statistics chart, offer, timeline, verify panel), keyboard access to the search,
// 375 px without horizontal overflow, and a clear 404. Screenshots land in test-results/.
import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, startStack, type Stack } from '../../scripts/stack'
import { publishDemoData } from '../../scripts/stack/demo'
import { launchBrowser } from '../support/browser'

const run = promisify(execFile)
const root = process.cwd()
const shots = join(root, 'test-results', 'storefront')

const CSV =
  [
    'harbour,month,ferry_visits,sheltered',
    ...Array.from(
      { length: 300 },
      (_, i) => `harbour-${i % 6},2024-${String((i % 12) + 1).padStart(2, '0')},${(i * 37) % 900},${i % 3 === 0}`,
    ),
  ].join('\n') + '\n'

interface Published {
  tokenId: string
  txHash: string
  contentHash: string
  ciphertextCid: string
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 90_000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await probe().catch(() => undefined)
    if (v !== undefined) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 1000))
  }
}

describe('storefront', () => {
  let stack: Stack
  let dataDir: string
  let browser: Browser
  let mine: Published

  const api = async (path: string) => (await fetch(`${stack.urls.api}${path}`)).json()
  const site = (path: string) => new URL(path, stack.urls.site).toString()
  async function open(path: string, width = 1280): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } })
    const res = await page.goto(site(path))
    expect(res?.status(), path).toBe(200)
    return page
  }
  const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-storefront-'))
    const p = async () => freePort()
    stack = await startStack({
      root,
      dataDir,
      ports: {
        chain: await p(),
        ipfsApi: await p(),
        ipfsGateway: await p(),
        enclave: await p(),
        worker: await p(),
        inspector: await p(),
      },
    })
    // What `npm start` publishes, then one more CSV through the CLI as an owner would.
    await publishDemoData({ apiUrl: stack.urls.api, chainUrl: stack.urls.chain, dataDir, log: () => {} })
    await until('the demo datasets in the catalogue', async () => {
      const body = await api('/assets')
      return body.items?.length >= 3 && body.items.every((i: { title: string | null }) => i.title) ? body : undefined
    })
    const file = join(dataDir, 'harbours.csv')
    writeFileSync(file, CSV)
    const res = await run(
      process.execPath,
      [
        join(root, 'cli/bin.mjs'),
        'publish',
        file,
        '--title',
        'Harbour ferry visits',
        '--description',
        'Monthly ferry visits per harbour, a storefront test dataset.',
        '--tags',
        'maritime,transport',
        '--dev-account',
        '11',
        '--price',
        '0.015',
        '--json',
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          STILLFLOW_API: stack.urls.api,
          STILLFLOW_RPC: stack.urls.chain,
          STILLFLOW_HOME: join(dataDir, 'cli'),
        },
      },
    )
    mine = JSON.parse(res.stdout) as Published
    // Searchable once the indexer has mirrored the mint, the offer and the metadata.
    await until('the CLI publication in search', async () => {
      const body = await api('/assets?q=ferry')
      return body.items?.[0]?.tokenId === mine.tokenId && body.items[0].price ? body : undefined
    })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('home: the promise, a labelled search field reachable by Tab, the new asset among the newest', async () => {
    const page = await open('/')
    await expect(page.locator('h1').textContent()).resolves.toMatch(/right to compute/)
    await expect(page.locator('main').textContent()).resolves.toMatch(/never the raw data/)
    const newest = page.locator('[aria-label="Newest datasets"] article')
    await expect(newest.first().getAttribute('data-token-id')).resolves.toBe(mine.tokenId)
    await expect(newest.first().locator('h3').textContent()).resolves.toBe('Harbour ferry visits')
    await expect(page.locator('tr[data-component]').count()).resolves.toBe(4)

    // Keyboard: Tab from the top reaches the search field, which has a label and a visible focus ring.
    let focused = ''
    for (let i = 0; i < 10 && focused !== 'q'; i++) {
      await page.keyboard.press('Tab')
      focused = await page.evaluate(() => document.activeElement?.id ?? '')
    }
    expect(focused).toBe('q')
    const field = await page.evaluate(() => {
      const el = document.activeElement as HTMLInputElement
      return { label: el.labels?.[0]?.textContent, outline: getComputedStyle(el).outlineStyle }
    })
    expect(field).toEqual({ label: 'Search datasets', outline: 'solid' })
    await page.screenshot({ path: join(shots, 'home-1280.png'), fullPage: true })

    // Submitting the form with the keyboard lands on the browse page with the results.
    await page.keyboard.type('harbour')
    await Promise.all([page.waitForURL(/\/assets\?q=harbour/), page.keyboard.press('Enter')])
    await expect(page.locator('main article').first().getAttribute('data-token-id')).resolves.toBe(mine.tokenId)
    await page.close()
  })

  it('browse: full-text search by a title word, a tag filter, a format filter, and a clear message for bad input', async () => {
    let page = await open('/assets?q=Ferry')
    await expect(
      page.locator('main article').evaluateAll((a) => a.map((e) => e.getAttribute('data-token-id'))),
    ).resolves.toEqual([mine.tokenId])
    await page.screenshot({ path: join(shots, 'browse-search.png'), fullPage: true })
    await page.close()

    page = await open('/assets?tag=maritime')
    const titles = await page.locator('main article h3').allTextContents()
    expect(titles).toEqual(['Harbour ferry visits'])
    await expect(page.locator('#tag').inputValue()).resolves.toBe('maritime')
    await page.close()

    page = await open('/assets?format=jsonl')
    expect(await page.locator('main article h3').count()).toBeGreaterThan(0)
    expect(await page.locator('main article h3').allTextContents()).not.toContain('Harbour ferry visits')
    await page.close()

    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const bad = await page.goto(site('/assets?minEth=cheap'))
    expect(bad?.status()).toBe(400)
    await expect(page.locator('[role=alert]').textContent()).resolves.toMatch(/Min price must be an amount in ETH/)
    await page.close()
  })

  it('asset page: title, schema, statistics chart, offer with price, timeline with the mint transaction, verify panel', async () => {
    const page = await open(`/assets/${mine.tokenId}`)
    await expect(page.locator('h1').textContent()).resolves.toBe('Harbour ferry visits')
    await expect(page.locator('[data-status]').getAttribute('data-status')).resolves.toBe('indexed')
    await expect(page.locator('table.schema tbody th').allTextContents()).resolves.toEqual([
      'harbour',
      'month',
      'ferry_visits',
      'sheltered',
    ])
    const charts = page.locator('figure.chart')
    expect(await charts.count()).toBeGreaterThan(0)
    expect(await page.locator('figure.chart .bar').count()).toBeGreaterThan(0)
    await expect(page.locator('.offer .price').first().textContent()).resolves.toMatch(/^0\.015 ETH/)
    await expect(page.locator('[data-kind=mint]').textContent()).resolves.toContain(mine.txHash)
    await expect(page.locator('[data-kind=offer]').count()).resolves.toBeGreaterThan(0)
    await expect(page.locator('[data-verify=content-hash] code').textContent()).resolves.toBe(mine.contentHash)
    await expect(page.locator('[data-verify=ciphertext-cid] code').textContent()).resolves.toBe(mine.ciphertextCid)
    await expect(page.locator('[data-verify=measurement] code').textContent()).resolves.toMatch(/^0x[0-9a-f]{64}$/)
    await expect(page.locator('#policy-title + ul').textContent()).resolves.toMatch(/differential privacy/)
    // Server-rendered: everything above reads without script; the only scripts are the buy-and-run
    // section's small modules, which load the wallet code when the reader acts (site-flows.test.ts).
    const scripts = await page.locator('script').evaluateAll((s) => s.map((e) => e.getAttribute('type')))
    expect(scripts.every((t) => t === 'module')).toBe(true)
    await page.screenshot({ path: join(shots, 'asset-1280.png'), fullPage: true })
    await page.close()
  })

  it('fits 375 px without horizontal overflow: home, browse and the asset page', async () => {
    for (const [name, path] of [
      ['home', '/'],
      ['browse', '/assets?q=harbour'],
      ['asset', `/assets/${mine.tokenId}`],
    ]) {
      const page = await open(path, 375)
      expect(await overflow(page), name).toBeLessThanOrEqual(0)
      await page.screenshot({ path: join(shots, `${name}-375.png`), fullPage: true })
      await page.close()
    }
  })

  it('an unknown asset id is a clear 404 page, not a stack trace', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    for (const id of ['999999', 'not-an-id']) {
      const res = await page.goto(site(`/assets/${id}`))
      expect(res?.status()).toBe(404)
      await expect(page.locator('h1').textContent()).resolves.toBe('Asset not found')
      const text = (await page.locator('body').textContent()) ?? ''
      expect(text).toContain(`no asset with id “${id}”`)
      expect(text).not.toMatch(/\bat .+:\d+:\d+|Error:|undefined/)
    }
    await page.screenshot({ path: join(shots, 'asset-404.png'), fullPage: true })
    await page.close()
  })
})
