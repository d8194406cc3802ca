// The buy flow's confirmation for a licence priced in an ERC-20 (site/src/flows/buy-run/summary.ts): the
// amounts in the token's units and symbol, gas still in ETH, and the approval of exactly the price the
// wallet asks for first. The native wording is covered in format.test.ts.
import { describe, expect, it } from 'vitest'
import { purchaseSummary, type QuoteTerms } from '../../site/src/flows/buy-run/summary'

const TOKEN = '0x5FbDB2315678afecb367f032d93F642f64180aa3'
const q: QuoteTerms = {
  price: '1500000',
  ownerReceives: '1462500',
  fee: '37500',
  currency: TOKEN,
  maxJobs: 1,
  epsilonBudgetMilli: 2000,
  durationSeconds: 3600,
  approval: { token: TOKEN, spender: '0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512', amount: '1500000' },
}

describe('purchaseSummary for a token price', () => {
  it('states the amounts in the token’s units and the approval of exactly the price before the purchase', () => {
    expect(purchaseSummary(q, null, { symbol: 'USDC', decimals: 6 })).toBe(
      'You pay 1.5 USDC in total, plus gas in ETH: 1.4625 USDC to the owner and 0.0375 USDC platform fee. ' +
        'Your wallet first asks you to approve the marketplace to take exactly 1.5 USDC (never more), unless it ' +
        'already may, then to sign the purchase. The licence allows 1 job and ε 2 for 1 hour.',
    )
  })

  it('falls back to the smallest unit when the token is not known', () => {
    expect(purchaseSummary(q, null)).toMatch(
      new RegExp(
        `^You pay 1500000 units of token ${TOKEN} in total, .* approve the marketplace to take exactly 1500000 units`,
      ),
    )
  })

  it('asks for no approval for a free licence', () => {
    const free = purchaseSummary({ ...q, price: '0', ownerReceives: '0', fee: '0' }, null, {
      symbol: 'USDC',
      decimals: 6,
    })
    expect(free).toMatch(/^This licence is free: you pay only the gas/)
    expect(free).not.toMatch(/approve/)
  })
})
