// How the storefront's flows word a failure (site/src/wallet/errors.ts, error-line.ts): one plain sentence
// for the reader with no developer code in it, and the code kept apart as the reference support asks for.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiRequestError, JobNotSucceededError, TransactionRefusedError, type JobView } from '../../sdk/src/index'
import { showError } from '../../site/src/wallet/error-line'
import { DescribedError, explainError } from '../../site/src/wallet/errors'

const job = (status: JobView['status'], reason?: JobView['reason']) =>
  new JobNotSucceededError({ jobId: `0x${'11'.repeat(32)}`, status, reason } as JobView)

describe('explainError', () => {
  it('keeps an API refusal’s message as the API wrote it and its code as the reference', () => {
    const err = new ApiRequestError(422, 'query_rejected', 'SELECT * would expose rows; select aggregates')
    expect(explainError(err)).toEqual({
      message: 'SELECT * would expose rows; select aggregates',
      reference: 'query_rejected',
    })
  })

  it('says a job that ended without a result was not charged, its reason code apart', () => {
    expect(explainError(job('failed', { code: 'query_rejected', message: 'The query does not parse' }))).toEqual({
      message: 'The query does not parse. The job was not charged.',
      reference: 'query_rejected',
    })
    // A reason that already ends its sentence is not given a second full stop.
    expect(explainError(job('failed', { code: 'x', message: 'Too few rows.' })).message).toBe(
      'Too few rows. The job was not charged.',
    )
    expect(explainError(job('expired'))).toEqual({
      message: 'The job expired without a result and was not charged.',
      reference: 'expired',
    })
  })

  it('words a contract refusal it knows, and keeps the custom error with its arguments as the reference', () => {
    const known = new TransactionRefusedError('DataMarketOfferInactive', 'DataMarketOfferInactive(7, 1)')
    expect(explainError(known)).toEqual({
      message:
        'The transaction was refused: this offer is no longer on sale (it was withdrawn, or the dataset changed hands).',
      reference: 'DataMarketOfferInactive(7, 1)',
    })
    const unknown = new TransactionRefusedError('DataMarketFeeTooHigh', 'DataMarketFeeTooHigh(9000, 1000)')
    expect(explainError(unknown)).toEqual({
      message: 'The contract refused the transaction.',
      reference: 'DataMarketFeeTooHigh(9000, 1000)',
    })
  })

  it('has no reference where there is no code: a declined request, a plain error', () => {
    expect(explainError({ code: 'ACTION_REJECTED' })).toEqual({
      message: 'You declined the request in your wallet; nothing was sent.',
    })
    expect(explainError({ info: { error: { code: 4001 } } }).reference).toBeUndefined()
    expect(explainError(new Error('Choose one of your licences first (buy one above).\nat x'))).toEqual({
      message: 'Choose one of your licences first (buy one above).',
    })
  })

  it('passes on a failure the publish worker already described, as it was described', () => {
    expect(explainError(new DescribedError('Upload refused', 'upload_too_large'))).toEqual({
      message: 'Upload refused',
      reference: 'upload_too_large',
    })
  })

  it.each([
    new ApiRequestError(429, 'budget_exhausted', 'The licence has too little ε left'),
    new ApiRequestError(404, 'asset_not_found', 'No asset 9 on chain 31337'),
    job('failed', { code: 'enclave_unavailable', message: 'The enclave did not answer' }),
    new TransactionRefusedError('DataMarketWrongPayment', 'DataMarketWrongPayment(10, 9)'),
  ])('never puts the code or an HTTP status in the sentence (%#)', (err) => {
    const { message, reference } = explainError(err)
    expect(reference).toBeTruthy()
    expect(message).not.toContain(reference!.replace(/\(.*$/, ''))
    expect(message).not.toMatch(/HTTP \d{3}|\(\w+_\w+/)
  })
})

describe('showError', () => {
  // The smallest DOM the helper touches, so the node project can check what a flow's error line holds.
  class FakeElement {
    children: Array<string | FakeElement> = []
    dataset: Record<string, string> = {}
    hidden = true
    className = ''
    textContent = ''
    replaceChildren(...nodes: Array<string | FakeElement>) {
      this.children = nodes
    }
    append(...nodes: Array<string | FakeElement>) {
      this.children.push(...nodes)
    }
    get text(): string {
      return this.children.map((c) => (typeof c === 'string' ? c : c.textContent)).join('')
    }
  }
  afterEach(() => vi.unstubAllGlobals())

  it('writes the sentence, then the reference on its own small line, and marks the line with the code', () => {
    vi.stubGlobal('document', { createElement: () => new FakeElement() })
    const line = new FakeElement()
    showError(
      line as unknown as HTMLElement,
      new ApiRequestError(422, 'query_rejected', 'SELECT * would expose rows'),
      'The query did not run',
    )
    expect(line.text).toBe('The query did not run: SELECT * would expose rows Reference: query_rejected')
    expect((line.children[2] as FakeElement).className).toBe('error-reference')
    expect(line.dataset.code).toBe('query_rejected')
    expect(line.hidden).toBe(false)

    // The next failure on the same line has no code: neither the old reference nor its data-code stays.
    showError(line as unknown as HTMLElement, new Error('Title is required.'), 'Publishing failed')
    expect(line.text).toBe('Publishing failed: Title is required.')
    expect(line.dataset.code).toBeUndefined()
  })
})
