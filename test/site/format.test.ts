// The storefront's formatters (site/src/lib/format.ts) and the purchase summary built from them
// (site/src/flows/buy-run/summary.ts): exact amounts whose parts add up, one duration format, plural
// nouns, the number of queries a licence's ε budget covers, and a freeze's reason in words.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { purchaseSummary, type QuoteTerms } from '../../site/src/flows/buy-run/summary'
import {
  endSentence,
  epsilonPerQueryMilli,
  ethToWei,
  formatBudget,
  formatDuration,
  formatEth,
  formatTime,
  freezeReasonInWords,
  licenceLeft,
  plural,
  queriesAllowed,
  weiToEthInput,
} from '../../site/src/lib/format'

const NATIVE = '0x0000000000000000000000000000000000000000'

describe('formatEth', () => {
  it('shows every significant decimal, trailing zeros trimmed', () => {
    expect(formatEth('1500000000000000')).toBe('0.0015 ETH')
    expect(formatEth('1462500000000000')).toBe('0.0014625 ETH')
    expect(formatEth('37500000000000')).toBe('0.0000375 ETH')
    expect(formatEth('1')).toBe('0.000000000000000001 ETH')
    expect(formatEth('0')).toBe('0 ETH')
    expect(formatEth(12n * 10n ** 18n)).toBe('12 ETH')
  })

  it('round-trips through ethToWei for every amount (parts shown always add up to the total shown)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 128n - 1n }), (wei) => {
        expect(ethToWei(formatEth(wei).replace(' ETH', ''))).toBe(wei.toString())
        expect(weiToEthInput(wei.toString())).toBe(formatEth(wei).replace(' ETH', ''))
      }),
    )
  })
})

describe('formatDuration', () => {
  it.each([
    [3600, '1 hour'],
    [7200, '2 hours'],
    [5400, '1 hour 30 minutes'],
    [86_400, '1 day'],
    [90_000, '1 day 1 hour'],
    [30 * 86_400, '30 days'],
    [86_400 + 60, '1 day'],
    [59, '59 seconds'],
    [60, '1 minute'],
    [0, '0 seconds'],
  ])('%i s → %s', (s, words) => expect(formatDuration(s)).toBe(words))
})

describe('plural and dates', () => {
  it('uses the singular only for exactly one', () => {
    expect(plural(1, 'job')).toBe('1 job')
    expect(plural(0, 'job')).toBe('0 jobs')
    expect(plural(2, 'query', 'queries')).toBe('2 queries')
    expect(plural(1, 'query', 'queries')).toBe('1 query')
  })

  it('writes every date-time the same way, in UTC', () => {
    expect(formatTime(1_796_618_107)).toBe('2026-12-07 04:35:07 UTC')
  })
})

describe('ε per query and queries allowed', () => {
  it('reads the per-query ε of a DP policy (the enclave default when absent), 0 for aggregates-only, null if unknown', () => {
    expect(epsilonPerQueryMilli({ mode: 'dp', epsilonPerQueryMilli: 250 })).toBe(250)
    expect(epsilonPerQueryMilli({ mode: 'dp' })).toBe(1000)
    expect(epsilonPerQueryMilli({ mode: 'aggregates-only', minGroupSize: 10 })).toBe(0)
    // As the catalogue gives it: the declared policy with its kind.
    expect(epsilonPerQueryMilli({ kind: 'aggregates-only', mode: 'aggregates-only' })).toBe(0)
    expect(epsilonPerQueryMilli({ kind: 'dp', mode: 'dp', epsilonPerQueryMilli: 500 })).toBe(500)
    expect(epsilonPerQueryMilli(null)).toBeNull()
  })

  it('is the smaller of the jobs and what the budget covers', () => {
    expect(queriesAllowed(10, 10_000, 1000)).toBe(10)
    expect(queriesAllowed(10, 2500, 1000)).toBe(2)
    expect(queriesAllowed(10, 500, 1000)).toBe(0)
    expect(queriesAllowed(10, 500, null)).toBe(10)
    expect(queriesAllowed(10, 0, 0)).toBe(10)
  })
})

describe('when the asset is aggregates-only (no differential privacy)', () => {
  const policy = { kind: 'aggregates-only', mode: 'aggregates-only', minGroupSize: 10 }

  it('shows an offer’s or licence’s ε budget as no ε, not as a number nothing spends', () => {
    expect(formatBudget(10_000, epsilonPerQueryMilli(policy))).toBe('no ε (aggregates only)')
    expect(licenceLeft(3, 10_000, epsilonPerQueryMilli(policy))).toBe('3 jobs left, no ε (aggregates only)')
  })

  it('still shows the number under a DP policy, and when the policy is not known', () => {
    expect(formatBudget(2500, 1000)).toBe('ε 2.5')
    expect(formatBudget(2500, null)).toBe('ε 2.5')
    expect(licenceLeft(1, 1500, 500)).toBe('1 job and ε 1.5 left')
    expect(licenceLeft(2, 1500, null)).toBe('2 jobs and ε 1.5 left')
  })
})

describe('endSentence', () => {
  it('adds a full stop only where a sentence has none', () => {
    expect(endSentence('The query does not parse')).toBe('The query does not parse.')
    expect(endSentence('Too few rows. ')).toBe('Too few rows.')
    expect(endSentence('Really?')).toBe('Really?')
  })
})

describe('purchaseSummary', () => {
  const q: QuoteTerms = {
    price: '1500000000000000',
    ownerReceives: '1462500000000000',
    fee: '37500000000000',
    currency: NATIVE,
    maxJobs: 1,
    epsilonBudgetMilli: 2000,
    durationSeconds: 3600,
  }

  it('states exact amounts, the duration in words and the queries the budget covers', () => {
    expect(purchaseSummary(q, 1000)).toBe(
      'You pay 0.0015 ETH in total, plus gas: 0.0014625 ETH to the owner and 0.0000375 ETH platform fee. ' +
        'The licence allows 1 job and ε 2 for 1 hour. Each query spends ε 1 under this asset’s privacy policy, ' +
        'so the licence runs at most 1 query.',
    )
  })

  it('says a free licence is free, and that a budget below one query runs nothing', () => {
    const free = purchaseSummary({ ...q, price: '0', ownerReceives: '0', fee: '0', maxJobs: 5 }, 3000)
    expect(free).toMatch(/^This licence is free: you pay only the gas for the transaction\. The licence allows 5 jobs/)
    expect(free).toMatch(/runs no query at all\.$/)
    expect(free).not.toMatch(/0\.0|0 ETH/)
  })

  it('leaves out the per-query line when the policy is not known', () => {
    expect(purchaseSummary(q, null)).toMatch(/and ε 2 for 1 hour\.$/)
  })

  it('names no ε budget for an aggregates-only asset: its queries spend none', () => {
    const s = purchaseSummary({ ...q, maxJobs: 5 }, 0)
    expect(s).toMatch(
      /The licence allows 5 jobs for 1 hour\. This asset releases aggregates only, so queries spend no ε\.$/,
    )
    expect(s).not.toMatch(/ε \d/)
  })
})

describe('freezeReasonInWords', () => {
  const bytes32 = (text: string) =>
    '0x' +
    Array.from(new TextEncoder().encode(text), (b) => b.toString(16).padStart(2, '0'))
      .join('')
      .padEnd(64, '0')

  it('reads the API’s text, and a freeze event’s zero-padded bytes32, as the supervisor’s words', () => {
    expect(freezeReasonInWords('court-order-2026-117')).toBe('reason: “court-order-2026-117”')
    expect(freezeReasonInWords(bytes32('court-order-2026-117'))).toBe('reason: “court-order-2026-117”')
    expect(freezeReasonInWords(bytes32('Zürich – Gericht'))).toBe('reason: “Zürich – Gericht”')
  })

  it('shows any other bytes32 as a reason code in full, and nothing when there is no reason', () => {
    for (const code of [
      '0x' + 'ab'.repeat(32),
      bytes32('court\u0000order'),
      bytes32('tab\there'),
      bytes32('\u202eevil'),
      '0x' + '61'.repeat(32),
      bytes32('  '),
      bytes32('ok').replace(/^0x6f/, '0xff'),
    ])
      expect(freezeReasonInWords(code)).toBe(`reason code ${code}`)
    expect(freezeReasonInWords('0x' + '00'.repeat(32))).toBeNull()
    expect(freezeReasonInWords(null)).toBeNull()
    expect(freezeReasonInWords('')).toBeNull()
  })
})
