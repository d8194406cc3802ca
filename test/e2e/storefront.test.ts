// The storefront's read side in a real browser against the processes `npm start` runs (issue 7): the demo
// datasets plus one CSV published, licensed and queried with the CLI, then home (promise, featured,
// newest), browse (full-text search, every filter, sorts, cursor pages, bad input), the asset page, the
// verification page checking a genuine and a tampered receipt in the browser, a walk home → search →
// filter → asset → verify by keyboard and mouse, 375 px layouts, error pages, and a chain that goes down.
// Screenshots at 1280 and 375 px land in test-results/screenshots/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePorts, startStack, type Stack } from '../../scripts/stack'
import { publishDemoData } from '../../scripts/stack/demo'
import { launchBrowser } from '../support/browser'
import { cliRunner } from '../support/cli'

const root = process.cwd()
const shots = join(root, 'test-results', 'screenshots')
const OWNER = 11
const BUYER = 12

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
interface JobOut {
  jobId: string
  txHash: string
  receipt: { receipt: Record<string, string | number>; signature: string; signer: string }
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

/** No raw error leaks into a page: no stack frame, no exception name, no "undefined". */
const LEAK = /\bat .+:\d+:\d+|\b(Type|Reference|Syntax)?Error:|\bundefined\b|\[object Object\]/

describe('storefront', () => {
  let stack: Stack
  let dataDir: string
  let browser: Browser
  let mine: Published
  let job: JobOut
  let demoCount = 0

  const cli = (args: string[]) => cliRunner(root, () => stack, join(dataDir, 'cli'))(args)
  async function cliJson<T>(args: string[]): Promise<T> {
    const res = await cli([...args, '--json'])
    if (res.code !== 0) throw new Error(`stillflow ${args[0]} exited ${res.code}: ${res.stderr}`)
    return JSON.parse(res.stdout) as T
  }
  const api = async (path: string) => (await fetch(`${stack.urls.api}${path}`)).json()
  const site = (path: string) => new URL(path, stack.urls.site).toString()
  async function open(path: string, width = 1280, status = 200): Promise<Page> {
    const page = await browser.newPage({ viewport: { width, height: 900 } })
    const res = await page.goto(site(path))
    expect(res?.status(), path).toBe(status)
    return page
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
  const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  const cardIds = (page: Page, list = 'main') =>
    page.locator(`${list} article[data-token-id]`).evaluateAll((a) => a.map((e) => e.getAttribute('data-token-id')))
  /** Pastes `text` into the verification form and waits for the verdict. */
  async function verify(page: Page, text: string) {
    await page.fill('#receipt', text)
    await page.click('#check')
    await page.locator('#verdict:not([hidden])').waitFor()
    await page.waitForFunction(() => !(document.getElementById('check') as HTMLButtonElement).disabled)
    return {
      ok: await page.locator('#verdict').getAttribute('data-ok'),
      summary: (await page.locator('#summary').textContent()) ?? '',
      checks: await page
        .locator('#checks li')
        .evaluateAll((li) => li.map((l) => [l.getAttribute('data-check'), l.getAttribute('data-ok')])),
    }
  }

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-storefront-'))
    stack = await startStack({ root, dataDir, ports: await freePorts() })
    // What `npm start` publishes, then one CSV through the CLI as an owner would, licensed and queried.
    await publishDemoData({ apiUrl: stack.urls.api, chainUrl: stack.urls.chain, dataDir, log: () => {} })
    const demo = await until('the demo datasets in the catalogue', async () => {
      const body = await api('/assets')
      return body.items?.length >= 3 && body.items.every((i: { title: string | null }) => i.title) ? body : undefined
    })
    demoCount = demo.items.length
    const file = join(dataDir, 'harbours.csv')
    writeFileSync(file, CSV)
    mine = await cliJson<Published>([
      'publish',
      file,
      '--title',
      'Harbour ferry visits',
      '--description',
      'Monthly ferry visits per harbour, a storefront test dataset.',
      '--tags',
      'maritime,transport',
      '--dev-account',
      String(OWNER),
      '--price',
      '0.015',
    ])
    await until('the CLI publication in search', async () => {
      const body = await api('/assets?q=ferry')
      return body.items?.[0]?.tokenId === mine.tokenId && body.items[0].price ? body : undefined
    })
    const { offers } = await cliJson<{ offers: Array<{ offerId: string }> }>(['offer', 'list', mine.tokenId])
    await cliJson(['buy', mine.tokenId, offers[0].offerId, '--yes', '--dev-account', String(BUYER)])
    job = await cliJson<JobOut>([
      'job',
      mine.tokenId,
      'SELECT harbour, COUNT(*) AS n FROM data GROUP BY harbour',
      '--dev-account',
      String(BUYER),
    ])
    await until('the receipt in the index', async () => {
      const body = await api(`/assets/${mine.tokenId}`)
      return body.usage?.receipts >= 1 && body.usage.licences >= 1 ? body : undefined
    })
    browser = await launchBrowser()
  })
  afterAll(async () => {
    await browser?.close()
    await stack?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('home: the promise, the licensed dataset featured, the newest, a skip link and a labelled search by keyboard', async () => {
    const page = await open('/')
    await expect(page.locator('h1').textContent()).resolves.toMatch(/right to compute/)
    await expect(page.locator('main').textContent()).resolves.toMatch(/never the raw data,\s+never a copy/)
    await expect(cardIds(page, '[aria-label="Featured datasets"]')).resolves.toEqual([mine.tokenId])
    await expect(page.locator('[aria-label="Featured datasets"] article').textContent()).resolves.toMatch(
      /1 licence, 1 job/,
    )
    const newest = await cardIds(page, '[aria-label="Newest datasets"]')
    expect(newest[0]).toBe(mine.tokenId)
    expect(newest.length).toBe(Math.min(6, demoCount + 1))
    await expect(page.locator('tr[data-component]').count()).resolves.toBe(4)

    // The first Tab lands on the skip link, visible when focused; following it moves focus to the content.
    await page.keyboard.press('Tab')
    const skip = await page.evaluate(() => {
      const el = document.activeElement as HTMLAnchorElement
      const r = el.getBoundingClientRect()
      return { text: el.textContent, href: el.getAttribute('href'), visible: r.top >= 0 && r.height > 0 }
    })
    expect(skip).toEqual({ text: 'Skip to content', href: '#main', visible: true })
    await page.keyboard.press('Enter')
    await expect(page.evaluate(() => document.activeElement?.id)).resolves.toBe('main')

    // Tab from the content reaches the search field, which has a label and a visible focus ring.
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
    await shot(page, 'home-1280')
    await page.close()
  })

  it('walks home → search → filter → asset page → verify, by keyboard and by links, at 1280 and 375 px', async () => {
    for (const width of [1280, 375]) {
      const page = await open('/', width)
      await page.focus('#q')
      await page.keyboard.type('harbour')
      await Promise.all([page.waitForURL(/\/assets\?q=harbour/), page.keyboard.press('Enter')])
      await expect(cardIds(page)).resolves.toEqual([mine.tokenId])
      await shot(page, `walk-1-search-${width}`)

      // Filter with the full form: a tag and a price range in ETH, submitted as a plain GET.
      await page.fill('#q', '')
      await page.fill('#tag', 'maritime')
      await page.fill('#minEth', '0.01')
      await page.fill('#maxEth', '0.02')
      await page.selectOption('#sort', 'popular')
      await Promise.all([page.waitForURL(/tag=maritime/), page.click('form[role=search] button[type=submit]')])
      expect(new URL(page.url()).searchParams.get('sort')).toBe('popular')
      await expect(cardIds(page)).resolves.toEqual([mine.tokenId])
      await shot(page, `walk-2-filter-${width}`)

      await Promise.all([page.waitForURL(`**/assets/${mine.tokenId}`), page.click(`main article h3 a`)])
      await expect(page.locator('h1').textContent()).resolves.toBe('Harbour ferry visits')
      expect(await overflow(page)).toBeLessThanOrEqual(0)
      await shot(page, `walk-3-asset-${width}`)

      await Promise.all([page.waitForURL(/\/verify\?receipt=0x/), page.click(`[data-receipt] a`)])
      await page.locator('#verdict:not([hidden])').waitFor()
      await expect(page.locator('#verdict').getAttribute('data-ok')).resolves.toBe('true')
      expect(await overflow(page)).toBeLessThanOrEqual(0)
      await shot(page, `walk-4-verify-${width}`)
      await page.close()
    }
  })

  it('browse: full-text search, tag, format, policy, owner and price filters, three sorts, cursor pages', async () => {
    let page = await open('/assets?q=Ferry')
    await expect(cardIds(page)).resolves.toEqual([mine.tokenId])
    await page.close()

    page = await open('/assets?tag=maritime')
    await expect(page.locator('main article h3').allTextContents()).resolves.toEqual(['Harbour ferry visits'])
    await expect(page.locator('#tag').inputValue()).resolves.toBe('maritime')
    await page.close()

    page = await open('/assets?format=jsonl')
    const jsonl = await cardIds(page)
    expect(jsonl.length).toBeGreaterThan(0)
    expect(jsonl).not.toContain(mine.tokenId)
    await page.close()

    page = await open('/assets?policy=dp&format=csv')
    await expect(cardIds(page)).resolves.toContain(mine.tokenId)
    await page.close()

    const owner = (await api(`/assets/${mine.tokenId}`)).owner as string
    page = await open(`/assets?owner=${owner}`)
    await expect(cardIds(page)).resolves.toEqual([mine.tokenId])
    await page.close()

    page = await open('/assets?minEth=0.0149&maxEth=0.0151')
    await expect(cardIds(page)).resolves.toEqual([mine.tokenId])
    await page.close()

    page = await open('/assets?sort=popular')
    expect((await cardIds(page))[0]).toBe(mine.tokenId)
    await expect(page.locator('#sort').inputValue()).resolves.toBe('popular')
    await page.close()

    page = await open('/assets?sort=price')
    const byPrice = await cardIds(page)
    const prices = await Promise.all(
      byPrice.map(async (id) =>
        BigInt((await api(`/assets/${id}`)).offers.find((o: { live: boolean }) => o.live)?.price ?? -1),
      ),
    )
    const priced = prices.filter((p) => p >= 0n)
    expect(priced).toEqual([...priced].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)))
    await page.close()

    // Cursor pages of two: "Next page" walks every dataset exactly once, "First page" returns.
    page = await open('/assets?limit=2')
    const seen: string[] = []
    for (let i = 0; i < 10; i++) {
      seen.push(...((await cardIds(page)) as string[]))
      const next = page.locator('a[rel=next]')
      if ((await next.count()) === 0) break
      await Promise.all([page.waitForURL(/cursor=/), next.click()])
    }
    expect(seen.length).toBe(demoCount + 1)
    expect(new Set(seen).size).toBe(seen.length)
    await Promise.all([page.waitForURL((u) => !u.searchParams.has('cursor')), page.click('text=First page')])
    await page.close()
  })

  it('without JavaScript: search and filters work as plain GET forms; /verify says why it needs script', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    await page.goto(site('/'))
    await page.fill('#q', 'harbour')
    await Promise.all([page.waitForURL(/\/assets\?q=harbour/), page.click('form[role=search] button[type=submit]')])
    await expect(cardIds(page)).resolves.toEqual([mine.tokenId])
    await page.selectOption('#format', 'jsonl')
    await Promise.all([page.waitForURL(/format=jsonl/), page.click('form[role=search] button[type=submit]')])
    await expect(page.locator('main').textContent()).resolves.toMatch(/No dataset matches this search/)
    await page.goto(site(`/assets/${mine.tokenId}`))
    await expect(page.locator('h1').textContent()).resolves.toBe('Harbour ferry visits')
    await page.goto(site('/verify'))
    await expect(page.locator('main').textContent()).resolves.toMatch(
      /The check runs in your browser[\s\S]*enable JavaScript/,
    )
    await context.close()
  })

  it('browse: bad input gets a 400 page that names the field, never a stack trace', async () => {
    for (const [query, message] of [
      ['minEth=cheap', /Min price must be an amount in ETH/],
      ['owner=0x123', /owner must be an address, 0x followed by 40 hex digits/],
      ['sort=oldest', /sort must be one of newest, price, popular/],
      ['limit=500', /limit/],
      ['minEth=2&maxEth=1', /minPrice must not exceed maxPrice/],
    ] as const) {
      const page = await open(`/assets?${query}`, 1280, 400)
      const alert = (await page.locator('[role=alert]').textContent()) ?? ''
      expect(alert, query).toMatch(message)
      expect(await page.locator('body').textContent()).not.toMatch(LEAK)
      if (query === 'minEth=cheap') await shot(page, 'browse-bad-input-1280')
      await page.close()
    }
  })

  it('asset page: owner, schema, DP charts, offer with total cost and fee, timeline with transactions, policy, verify panel with receipts', async () => {
    const page = await open(`/assets/${mine.tokenId}`)
    await expect(page.locator('h1').textContent()).resolves.toBe('Harbour ferry visits')
    await expect(page.locator('[data-status]').getAttribute('data-status')).resolves.toBe('indexed')
    const detail = await api(`/assets/${mine.tokenId}`)
    await expect(page.locator('.meta').textContent()).resolves.toContain(detail.owner)
    await expect(page.locator('table.schema tbody th').allTextContents()).resolves.toEqual([
      'harbour',
      'month',
      'ferry_visits',
      'sheltered',
    ])
    expect(await page.locator('figure.chart').count()).toBeGreaterThan(0)
    expect(await page.locator('figure.chart .bar').count()).toBeGreaterThan(0)
    await expect(page.locator('.offer .price').first().textContent()).resolves.toMatch(
      /^0\.015 ETH total, platform fee included/,
    )
    const offer = (await page.locator('.offer').first().textContent()) ?? ''
    expect(offer).toMatch(/Platform fee/)
    expect(offer).toMatch(/Owner receives/)
    await expect(page.locator('[data-kind=mint]').textContent()).resolves.toContain(mine.txHash)
    await expect(page.locator('[data-kind=licence]').count()).resolves.toBe(1)
    await expect(page.locator('[data-kind=job]').textContent()).resolves.toContain(job.txHash)
    const txLink = page.locator('[data-kind=mint] a').first()
    expect(await txLink.getAttribute('href')).toMatch(new RegExp(`^/api/audit/events/${mine.txHash}/\\d+$`))
    await expect(page.locator('#policy-title + ul').textContent()).resolves.toMatch(/differential privacy/)
    await expect(page.locator('[data-verify=content-hash] code').textContent()).resolves.toBe(mine.contentHash)
    await expect(page.locator('[data-verify=ciphertext-cid] code').textContent()).resolves.toBe(mine.ciphertextCid)
    await expect(page.locator('[data-verify=measurement] code').textContent()).resolves.toBe(
      stack.addressBook.approvedMeasurement,
    )
    await expect(page.locator('[data-verify=receipts]').textContent()).resolves.toMatch(
      /1 receipt [\s\S]*1 licence sold/,
    )
    await expect(page.locator(`[data-receipt="${job.jobId}"] a`).getAttribute('href')).resolves.toBe(
      `/verify?receipt=${job.txHash}`,
    )
    // Server-rendered: everything above reads without script; the only scripts are the buy-and-run
    // section's small modules, which load the wallet code when the reader acts (site-flows.test.ts).
    const scripts = await page.locator('script').evaluateAll((s) => s.map((e) => e.getAttribute('type')))
    expect(scripts.every((t) => t === 'module')).toBe(true)
    await shot(page, 'asset-1280')
    await page.close()
  })

  describe('verification page', () => {
    it('a genuine receipt, pasted as the CLI printed it, verifies with every check passed', async () => {
      const page = await open('/verify')
      const v = await verify(page, JSON.stringify(job))
      expect(v.ok).toBe('true')
      expect(v.summary).toMatch(/^This result was computed by an approved enclave/)
      expect(v.checks).toEqual([
        ['chain', 'true'],
        ['signature', 'true'],
        ['registered', 'true'],
        ['approved', 'true'],
        ['recorded', 'true'],
      ])
      await expect(page.locator('#fields').textContent()).resolves.toContain(job.txHash)
      await shot(page, 'verify-ok-1280')
      await page.close()
    })

    it('opens the same receipt from its job id, its transaction hash, and the API JSON', async () => {
      const page = await open('/verify')
      for (const input of [job.jobId, job.txHash, JSON.stringify(await api(`/jobs/${job.jobId}/receipt`))]) {
        const v = await verify(page, input)
        expect(v.ok, input.slice(0, 20)).toBe('true')
        await expect(page.locator('#fields').textContent()).resolves.toContain(job.jobId)
      }
      // An id in the address bar (a shareable link) is checked on load.
      await page.goto(site(`/verify?receipt=${job.jobId}`))
      await page.locator('#verdict[data-ok=true]').waitFor()
      await page.close()
    })

    it('a tampered receipt fails and the verdict names what is wrong', async () => {
      const page = await open('/verify')
      const tampered = structuredClone(job)
      tampered.receipt.receipt.resultHash = '0x' + 'ab'.repeat(32)
      let v = await verify(page, JSON.stringify(tampered))
      expect(v.ok).toBe('false')
      // The summary names the changed field; the broken signature is its consequence (a sub-check).
      expect(v.summary).toMatch(
        /^This receipt does not verify: The result hash does not match the one recorded on chain for job 0x[0-9a-f]{8}…[0-9a-f]{8}, so the receipt was changed after the enclave signed it\.$/,
      )
      expect(v.checks).toContainEqual(['signature', 'false'])
      await expect(page.locator('[data-check=recorded]').textContent()).resolves.toMatch(/different resultHash/)
      await shot(page, 'verify-tampered-1280')

      // A signature by a key that is not a registered enclave: every field consistent, still refused.
      const forged = structuredClone(job)
      forged.receipt.signer = '0x' + '12'.repeat(20)
      v = await verify(page, JSON.stringify(forged))
      expect(v.ok).toBe('false')
      expect(v.checks).toContainEqual(['registered', 'false'])
      await expect(page.locator('[data-check=registered]').textContent()).resolves.toMatch(
        /was not an enclave registered in EnclaveRegistry when the job was recorded \(block \d+\)/,
      )

      // A receipt claiming another chain.
      const elsewhere = structuredClone(job) as JobOut & { receipt: { chainId: number } }
      elsewhere.receipt.chainId = 1
      v = await verify(page, JSON.stringify(elsewhere))
      expect(v.summary).toMatch(/for chain 1, but this marketplace runs on chain 31337/)
      await page.close()
    })

    it('input it cannot check gets a precise reason, never a blank or a stack trace', async () => {
      const page = await open('/verify')
      for (const [input, reason] of [
        ['', /Paste a receipt/],
        ['{"receipt":', /not valid JSON/],
        ['{"receipt": {"jobId": "0x12"}}', /"receipt\.jobId" is not a hash: it must be 0x followed by 64 hex digits/],
        ['hello', /0x followed by 64 hex digits/],
        ['0x' + '5a'.repeat(32), /has no receipt, job or transaction with id/],
        [mine.txHash, /is not a ComputeLedger\.recordReceipt or recordGroupReceipt call/],
      ] as const) {
        const v = await verify(page, input)
        expect(v.ok, input).toBe('false')
        expect(v.summary, input).toMatch(reason)
        expect(v.summary).not.toMatch(LEAK)
      }
      await page.close()
    })
  })

  it('every page carries its icon inline and requests nothing that is missing (no /favicon.ico 404)', async () => {
    for (const path of ['/', '/assets', `/assets/${mine.tokenId}`, '/verify', '/publish', '/dashboard/buyer']) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
      const failed: string[] = []
      page.on('response', (r) => {
        if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`)
      })
      await page.goto(site(path), { waitUntil: 'networkidle' })
      await expect(page.locator('link[rel=icon]').getAttribute('href'), path).resolves.toMatch(/^data:image\/svg\+xml,/)
      // Chromium asks for /favicon.ico only when a page names no icon; give it the moment it takes.
      await page.waitForTimeout(300)
      expect(failed, path).toEqual([])
      await page.close()
    }
  })

  it('fits 375 px without horizontal overflow: home, browse, asset, verify and the 404 page', async () => {
    for (const [name, path, status] of [
      ['home', '/', 200],
      ['browse', '/assets?q=harbour', 200],
      ['asset', `/assets/${mine.tokenId}`, 200],
      ['verify', '/verify', 200],
      ['not-found', '/no/such/page', 404],
    ] as const) {
      const page = await open(path, 375, status)
      expect(await overflow(page), name).toBeLessThanOrEqual(0)
      await shot(page, `${name}-375`)
      await page.close()
    }
  })

  it('unknown pages and assets are clear 404 pages with a way on', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    for (const id of ['999999', 'not-an-id']) {
      const res = await page.goto(site(`/assets/${id}`))
      expect(res?.status()).toBe(404)
      await expect(page.locator('h1').textContent()).resolves.toBe('Asset not found')
      const text = (await page.locator('body').textContent()) ?? ''
      expect(text).toContain(`no asset with id “${id}”`)
      expect(text).not.toMatch(LEAK)
    }
    await shot(page, 'asset-404-1280')
    const res = await page.goto(site('/no/such/page'))
    expect(res?.status()).toBe(404)
    await expect(page.locator('h1').textContent()).resolves.toBe('Page not found')
    await expect(page.locator('main a[href="/assets"]').count()).resolves.toBe(1)
    await shot(page, 'not-found-1280')
    await page.close()
  })

  // Last: it stops the chain for the rest of this stack.
  it('with the chain down, pages say so plainly: home names the component, verify cannot reach it', async () => {
    const chain = stack.services.find((s) => s.name === 'chain')
    expect(chain, 'the stack runs a chain service').toBeTruthy()
    await chain!.stop()
    let page = await open('/')
    await expect(page.locator('tr[data-component=chain]').getAttribute('data-ok')).resolves.toBe('false')
    await expect(page.locator('.summary[role=status]').textContent()).resolves.toMatch(/Some components are down/)
    expect(await page.locator('body').textContent()).not.toMatch(/\bat .+:\d+:\d+/)
    await shot(page, 'home-chain-down-1280')
    await page.close()

    page = await open('/verify')
    const v = await verify(page, job.jobId)
    expect(v.ok).toBe('false')
    expect(v.summary).toMatch(/could not reach the chain/)
    await shot(page, 'verify-chain-down-1280')
    await page.close()
  })
})
