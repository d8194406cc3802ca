// The storefront's wallet-driven flows in a real browser against the processes `npm start` runs (issue 7;
// R1, R6, R9, R19, R21, R51): with the development wallet, an owner publishes a CSV through the wizard
// (encrypted in a Web Worker) and sees it indexed; a second account buys a licence, runs a builder query
// and sees the decrypted table and chart; a rejected query shows a clear message; the owner dashboard
// shows the sale and the job, and Withdraw moves the balance on chain. Screenshots at 1280 and 375 px
// land in test-results/screenshots/.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Contract, JsonRpcProvider } from 'ethers'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dataMarketAbi, NATIVE_CURRENCY } from '../../contracts/index'
import { devWallet, freePorts, startStack, type Stack } from '../../scripts/stack'
import { launchBrowser } from '../support/browser'
import { until } from '../support/until'

const root = process.cwd()
const shots = join(root, 'test-results', 'screenshots')
const OWNER = 4
const BUYER = 5
const PRICE = '0.02'
/** Waiting on the chain, the indexer or a lazily loaded module: generous, the machine is shared. */
const POLL = { timeout: 30_000 }

const CSV =
  [
    'harbour,month,ferry_visits',
    ...Array.from(
      { length: 240 },
      (_, i) => `harbour-${i % 4},2024-${String((i % 12) + 1).padStart(2, '0')},${(i * 37) % 900}`,
    ),
  ].join('\n') + '\n'

describe('site flows with the development wallet', () => {
  let stack: Stack
  let dataDir: string
  let browser: Browser
  let ownerCtx: BrowserContext
  let buyerCtx: BrowserContext
  let provider: JsonRpcProvider
  let tokenId: string
  const owner = devWallet(OWNER).address
  const buyer = devWallet(BUYER).address
  const csvFile = () => join(dataDir, 'harbour-visits.csv')

  const site = (path: string) => new URL(path, stack.urls.site).toString()
  const api = async (path: string) => (await fetch(`${stack.urls.api}${path}`)).json()
  /** Both widths; the page must not scroll sideways at 375 px. */
  async function snap(page: Page, name: string) {
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.screenshot({ path: join(shots, `${name}-1280.png`), fullPage: true })
    await page.setViewportSize({ width: 375, height: 800 })
    await page.screenshot({ path: join(shots, `${name}-375.png`), fullPage: true })
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
      name,
    ).toBeLessThanOrEqual(0)
    await page.setViewportSize({ width: 1280, height: 900 })
  }
  async function connectDev(page: Page, index: number) {
    await page.getByLabel('Development account').selectOption(String(index))
    await page.getByRole('button', { name: 'Use development account' }).click()
    await expect
      .poll(() => page.locator('[data-wallet-status]').textContent(), POLL)
      .toContain(devWallet(index).address)
  }

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true })
    dataDir = mkdtempSync(join(tmpdir(), 'stillflow-site-flows-'))
    writeFileSync(csvFile(), CSV)
    stack = await startStack({ root, dataDir, ports: await freePorts() })
    provider = new JsonRpcProvider(stack.urls.chain, undefined, { staticNetwork: true })
    browser = await launchBrowser()
    // Two people, two browser profiles: the wallet choice and kept results are per profile.
    ownerCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    buyerCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  })
  afterAll(async () => {
    await browser?.close()
    provider?.destroy()
    await stack?.stop()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it('offers the development wallet on the local chain, saying loudly that its keys are public', async () => {
    const cfg = await api('/wallet')
    expect(cfg).toMatchObject({
      chainId: 31337,
      rpcUrl: stack.urls.chain,
      devWallet: { accounts: expect.arrayContaining([OWNER, BUYER]) },
    })
    const page = await ownerCtx.newPage()
    await page.goto(site('/publish'))
    const dev = page.locator('[data-dev-wallet]')
    await expect(dev.textContent()).resolves.toMatch(/DEVELOPMENT WALLET.*public test keys/s)
    // By keyboard alone: focus the account list, choose, Tab to the button, Enter.
    await page.getByLabel('Development account').focus()
    await page.keyboard.press('End')
    await page.getByLabel('Development account').selectOption(String(OWNER))
    await page.keyboard.press('Tab')
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Use development account')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('[data-wallet-status]').textContent(), POLL).toContain(owner)
    await page.close()
  })

  it('publishes a CSV through the wizard: encrypted in a Web Worker, one signature, pending → indexed', async () => {
    const page = await ownerCtx.newPage()
    await page.goto(site('/publish'))
    // The wallet chosen on the previous page is remembered.
    await expect.poll(() => page.locator('[data-wallet-status]').textContent(), POLL).toContain(owner)
    // A mistake is a sentence in the page, not a blank screen.
    await page.getByRole('button', { name: 'Encrypt, sign and publish' }).click()
    await expect
      .poll(() => page.locator('[data-publish-error]').textContent(), POLL)
      .toBe('Publishing failed: Choose a CSV or JSON Lines file to publish.')
    await page.getByLabel('CSV or JSON Lines file').setInputFiles(csvFile())
    await page.getByLabel('Title').fill('Harbour visits from the browser')
    await page.getByLabel('Description').fill('Ferry visits per harbour and month, published through the wizard.')
    // A tag in another script, typed decomposed as some keyboards and pastes give it: stored in NFC.
    await page.getByLabel(/^Tags/).fill('maritime, browser-test, 港口, cafe\u0301')
    await page.getByLabel(/^Price per licence/).fill(PRICE)
    await page.getByLabel('Jobs per licence').fill('5')
    const workers: string[] = []
    page.on('worker', (w) => workers.push(w.url()))
    await page.getByRole('button', { name: 'Encrypt, sign and publish' }).click()
    const indexed = page.locator('[data-step=indexed] a')
    await indexed.waitFor({ timeout: 180_000 })
    expect(
      workers.some((u) => /publish\.worker/.test(u)),
      'encryption ran in a Web Worker',
    ).toBe(true)
    await expect(page.locator('[data-step=publication]').textContent()).resolves.toMatch(
      /^Publication [0-9a-f-]{36}: minted$/,
    )
    await expect(page.locator('[data-step=offer]').textContent()).resolves.toMatch(
      /Offer set in transaction 0x[0-9a-f]{64}/,
    )
    tokenId = /\/assets\/(\d+)$/.exec((await indexed.getAttribute('href'))!)![1]
    // The metadata (title, description) is fetched from IPFS by the indexer after the mint is indexed.
    await expect.poll(async () => (await api(`/assets/${tokenId}`)).metadataStatus, POLL).toBe('ok')
    const asset = await api(`/assets/${tokenId}`)
    expect(asset).toMatchObject({
      status: 'indexed',
      owner: owner.toLowerCase(),
      title: 'Harbour visits from the browser',
      tags: ['maritime', 'browser-test', '港口', 'caf\u00e9'],
    })
    await expect(page.locator('[data-publish-error]').isHidden()).resolves.toBe(true)
    await snap(page, 'publish-done')
    await page.close()
  })

  it('buys a licence as another account, with the total cost shown before signing, and runs a builder query', async () => {
    await until('the offer in the catalogue', async () =>
      (await api(`/assets/${tokenId}`)).offers?.length ? true : undefined,
    )
    const page = await buyerCtx.newPage()
    await page.goto(site(`/assets/${tokenId}`))
    await connectDev(page, BUYER)
    await expect.poll(() => page.locator('[data-licences-status]').textContent(), POLL).toMatch(/holds no live licence/)
    await page.getByRole('button', { name: 'Review purchase' }).click()
    await expect
      .poll(() => page.locator('[data-buy-summary]').textContent(), POLL)
      .toMatch(new RegExp(`You pay ${PRICE} ETH in total`))
    await snap(page, 'asset-buy-confirm')
    await page.getByRole('button', { name: 'Confirm and sign' }).click()
    await expect
      .poll(() => page.locator('[data-job-status]').textContent(), { timeout: 60_000 })
      .toMatch(/Bought licence \d+/)
    const licenceId = /Bought licence (\d+)/.exec((await page.locator('[data-job-status]').textContent())!)![1]
    const market = new Contract(stack.addressBook.contracts.DataMarket, dataMarketAbi, provider)
    expect((await market.licence(licenceId)).buyer).toBe(buyer)
    await expect.poll(() => page.getByLabel('Run under licence').inputValue(), POLL).toBe(licenceId)

    await page.getByLabel('Aggregate').selectOption('SUM')
    await page.getByLabel('of column').selectOption('ferry_visits')
    await page.getByLabel('grouped by').selectOption('harbour')
    await expect(page.getByLabel(/^SQL/).inputValue()).resolves.toBe(
      'SELECT harbour, SUM(ferry_visits) AS sum_ferry_visits FROM data GROUP BY harbour',
    )
    await page.getByRole('button', { name: 'Sign and run query' }).click()
    const table = page.locator('[data-result] table')
    await table.waitFor({ timeout: 180_000 })
    await expect(table.locator('thead th').allTextContents()).resolves.toEqual(['harbour', 'sum_ferry_visits'])
    const labels = await table.locator('tbody tr td:first-child').allTextContents()
    expect(labels.length).toBeGreaterThan(0)
    for (const l of labels) expect(l).toMatch(/^harbour-[0-3]$/)
    await expect(page.locator('[data-result] svg[role=img]').count()).resolves.toBe(1)
    await expect(page.locator('[data-job-status]').textContent()).resolves.toMatch(/succeeded — result verified/)
    await snap(page, 'asset-result')
    await page.close()
  })

  it('shows a rejected query as a clear message in the page, and it costs nothing', async () => {
    const page = await buyerCtx.newPage()
    await page.goto(site(`/assets/${tokenId}`))
    await expect.poll(() => page.getByLabel('Run under licence').inputValue(), POLL).toMatch(/^\d+$/)
    const before = await api(`/licences/${await page.getByLabel('Run under licence').inputValue()}`)
    await page.getByLabel(/^SQL/).fill('SELECT * FROM data')
    await page.getByRole('button', { name: 'Sign and run query' }).click()
    const alert = page.locator('[data-flow-error]')
    await alert.waitFor({ state: 'visible', timeout: 60_000 })
    await expect(alert.textContent()).resolves.toMatch(/^The query did not run: .+\(query_rejected, HTTP 422\)/)
    expect(await page.locator('h1').textContent()).toBe('Harbour visits from the browser')
    expect(await page.content()).not.toMatch(/at \w+ \(.*:\d+:\d+\)/)
    const after = await api(`/licences/${before.licenceId}`)
    expect(after.jobsLeft).toBe(before.jobsLeft)
    await snap(page, 'asset-rejected-query')
    await page.close()
  })

  it('owner dashboard: the sale and the job with its ε; Withdraw moves the balance on chain', async () => {
    await until('the sale and the job in the owner report', async () => {
      const r = await api(`/reports/owner/${owner}`)
      return r.sales?.length === 1 && r.usage?.length === 1 ? r : undefined
    })
    const market = new Contract(stack.addressBook.contracts.DataMarket, dataMarketAbi, provider)
    const pending = (await market.pendingWithdrawal(owner, NATIVE_CURRENCY)) as bigint
    expect(pending).toBeGreaterThan(0n)
    const walletBefore = await provider.getBalance(owner)

    const page = await ownerCtx.newPage()
    await page.goto(site('/dashboard/owner'))
    // The connected wallet's address is followed without typing it.
    await page.waitForURL(/address=0x/)
    await expect(page.locator('[data-sale]').count()).resolves.toBe(1)
    await expect(page.locator('[data-sales] td:nth-child(2)').textContent()).resolves.toBe(`#${tokenId}`)
    await expect(page.locator('[data-usage] tr[data-job] td:nth-child(5)').textContent()).resolves.toMatch(/^ε \d/)
    await snap(page, 'dashboard-owner')
    await page.getByRole('button', { name: 'Withdraw' }).click()
    await expect
      .poll(() => page.locator('[data-withdraw-status]').textContent(), { timeout: 60_000 })
      .toMatch(/^Withdrew .* ETH in transaction 0x/)
    expect(await market.pendingWithdrawal(owner, NATIVE_CURRENCY)).toBe(0n)
    const walletAfter = await provider.getBalance(owner)
    // Gas costs far less than the sale: the wallet grows by the pending balance minus gas.
    expect(walletAfter - walletBefore).toBeGreaterThan((pending * 9n) / 10n)
    expect(walletAfter - walletBefore).toBeLessThanOrEqual(pending)
    await page.close()
  })

  it('buyer dashboard: the licence with what is left and the job with its decrypted result', async () => {
    const page = await buyerCtx.newPage()
    await page.goto(site(`/dashboard/buyer?address=${buyer}`))
    await expect(page.locator('[data-licence]').count()).resolves.toBe(1)
    const job = page.locator('[data-job]', { hasText: 'succeeded' })
    await expect(job.locator('pre').textContent()).resolves.toContain('GROUP BY harbour')
    await job.locator('table').waitFor()
    await expect(job.locator('table thead th').allTextContents()).resolves.toEqual(['harbour', 'sum_ferry_visits'])
    await snap(page, 'dashboard-buyer')
    await page.close()
  })

  it('asset page: loads only a few KB of script until the reader acts; the wallet code comes on demand', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    const scripts: Array<{ url: string; size: Promise<number> }> = []
    page.on('response', (r) => {
      // A body read still pending when the page closes rejects: NaN then fails a sum that awaited it, and
      // a late script nobody summed is no unhandled rejection.
      if (r.request().resourceType() === 'script')
        scripts.push({
          url: r.url(),
          size: r.body().then(
            (b) => b.length,
            () => Number.NaN,
          ),
        })
    })
    const total = async () => (await Promise.all(scripts.map((s) => s.size))).reduce((a, b) => a + b, 0)
    await page.goto(site(`/assets/${tokenId}`), { waitUntil: 'networkidle' })
    const initial = await total()
    expect(initial, scripts.map((s) => s.url).join(', ')).toBeLessThan(30_000)
    await connectDev(page, BUYER)
    await page.waitForLoadState('networkidle')
    const after = await total()
    expect(after - initial, 'the wallet code (ethers, the client library) loads on connect').toBeGreaterThan(100_000)
    await page.close()
  })

  it('works with any EIP-1193 wallet: connect, buy and run through window.ethereum', async () => {
    const account = devWallet(6).address
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    // A minimal injected wallet: the hardhat node holds the development accounts unlocked, so forwarding
    // JSON-RPC to it signs (eth_signTypedData_v4, eth_sendTransaction) as a browser extension would.
    await ctx.addInitScript(
      ({ rpc, account }) => {
        let id = 0
        ;(window as unknown as { ethereum: unknown }).ethereum = {
          async request({ method, params }: { method: string; params?: unknown[] }) {
            if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [account]
            const res = await fetch(rpc, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params: params ?? [] }),
            })
            const body = await res.json()
            if (body.error) throw Object.assign(new Error(body.error.message), body.error)
            return body.result
          },
          on() {},
          removeListener() {},
        }
      },
      { rpc: stack.urls.chain, account },
    )
    const page = await ctx.newPage()
    await page.goto(site(`/assets/${tokenId}`))
    await page.getByRole('button', { name: 'Connect browser wallet' }).click()
    await expect.poll(() => page.locator('[data-wallet-status]').textContent(), POLL).toContain(account)
    await page.getByRole('button', { name: 'Review purchase' }).click()
    await page.getByRole('button', { name: 'Confirm and sign' }).click()
    await expect
      .poll(() => page.locator('[data-job-status]').textContent(), { timeout: 60_000 })
      .toMatch(/Bought licence \d+/)
    // The purchase's block bounds the licence read: a cached "latest" once hid it (find-licences.test.ts).
    await expect.poll(() => page.getByLabel('Run under licence').inputValue(), POLL).toMatch(/^\d+$/)
    await page.getByRole('button', { name: 'Sign and run query' }).click()
    const table = page.locator('[data-result] table')
    await table.waitFor({ timeout: 180_000 })
    await expect(table.locator('thead th').allTextContents()).resolves.toEqual(['n'])
    expect(Number(await table.locator('tbody td').textContent())).toBeGreaterThan(0)

    // Publishing with the same wallet: the page checks the enclave on the chain as the wallet reads it
    // (no operator RPC), the Web Worker encrypts, the wallet signs the one Publish message.
    const own = join(dataDir, 'injected-wallet.csv')
    writeFileSync(own, CSV + 'harbour-9,2024-12,1\n') // other content: the first CSV is already published
    await page.goto(site('/publish'))
    await expect.poll(() => page.locator('[data-wallet-status]').textContent(), POLL).toContain(account)
    await page.getByLabel('CSV or JSON Lines file').setInputFiles(own)
    await page.getByLabel('Title').fill('Harbour visits from a browser wallet')
    await page.getByLabel('Description').fill('Published with an injected EIP-1193 wallet.')
    await page.getByRole('button', { name: 'Encrypt, sign and publish' }).click()
    const minted = page.locator('[data-step=minted] a')
    await minted.waitFor({ timeout: 180_000 })
    const mintedId = /\/assets\/(\d+)$/.exec((await minted.getAttribute('href'))!)![1]
    await expect.poll(async () => (await api(`/assets/${mintedId}`)).owner, POLL).toBe(account.toLowerCase())
    await ctx.close()
  })

  it('says plainly when a dashboard address is not an address', async () => {
    const page = await ownerCtx.newPage()
    const res = await page.goto(site('/dashboard/owner?address=not-an-address'))
    expect(res?.status()).toBe(400)
    await expect(page.getByRole('alert').first().textContent()).resolves.toMatch(/is not an account address/)
    await page.close()
  })
})
