// Draws a decrypted query result in the page: an accessible table and, when the result has a numeric
// column, a simple bar chart (inline SVG; no chart library). Shared by the asset page and the buyer
// dashboard. Text is set with textContent only: a result never becomes markup.
import type { QueryResult } from '../../../tee-sim/src/index'

const SVG = 'http://www.w3.org/2000/svg'

export function renderResult(result: QueryResult, into: HTMLElement, caption: string): void {
  into.replaceChildren(table(result, caption), ...chart(result), privacy(result))
}

function table(result: QueryResult, caption: string): HTMLTableElement {
  const t = document.createElement('table')
  t.className = 'result-table'
  t.dataset.resultTable = ''
  t.createCaption().textContent = caption
  const head = t.createTHead().insertRow()
  for (const c of result.columns) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.textContent = c
    head.append(th)
  }
  const body = t.createTBody()
  for (const row of result.rows) {
    const tr = body.insertRow()
    for (const cell of row)
      tr.insertCell().textContent = cell === null ? '—' : typeof cell === 'number' ? round(cell) : cell
  }
  if (result.rows.length === 0) {
    const td = body.insertRow().insertCell()
    td.colSpan = result.columns.length
    td.textContent = 'No group is large enough to release under the owner’s policy.'
  }
  return t
}

const round = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(Math.abs(n) >= 100 ? 1 : 3))

// The chart is drawn at the page's own scale (no viewBox): a fixed drawing scaled down to a 375 px phone
// shrinks its text below legibility (12 units became 7 px). Text is a fixed size in CSS px, each label sits
// on its own line above its bar, and bars are percentages of the width, so it fits any width legibly.
const FONT_PX = 14
const LABEL_H = 18
const BAR_H = 14
const ROW_H = LABEL_H + BAR_H + 10
/** The longest bar, in % of the width: the rest is room for the value written after it. */
const MAX_BAR_PCT = 75
/** Characters of a label that fit a 320 px phone at FONT_PX; a longer one is cut, whole in its tooltip. */
const MAX_LABEL = 36

/** Bars of the last numeric column, labelled by the other columns; nothing when there is no number. */
function chart(result: QueryResult): SVGSVGElement[] {
  const valueCol = [...result.columns.keys()].reverse().find((i) => result.rows.some((r) => typeof r[i] === 'number'))
  if (valueCol === undefined || result.rows.length === 0 || result.rows.length > 60) return []
  const rows = result.rows.map((r) => ({
    label:
      r
        .filter((_, i) => i !== valueCol)
        .map((c) => String(c ?? '—'))
        .join(' · ') || result.columns[valueCol],
    value: typeof r[valueCol] === 'number' ? (r[valueCol] as number) : 0,
  }))
  const max = Math.max(...rows.map((r) => Math.abs(r.value)), 1e-9)
  const svg = svgElement('svg', {
    width: '100%',
    height: rows.length * ROW_H,
    'font-size': `${FONT_PX}px`,
    fill: 'currentColor',
  })
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', `Bar chart of ${result.columns[valueCol]}`)
  svg.classList.add('result-chart')
  rows.forEach((r, i) => {
    const y = i * ROW_H
    const pct = Math.max(0.5, (Math.abs(r.value) / max) * MAX_BAR_PCT)
    const label = svgElement('text', { x: 0, y: y + FONT_PX })
    const cut = r.label.length > MAX_LABEL
    label.textContent = cut ? `${r.label.slice(0, MAX_LABEL - 1)}…` : r.label
    if (cut) {
      const whole = svgElement('title', {})
      whole.textContent = r.label
      label.append(whole)
    }
    const bar = svgElement('rect', { x: 0, y: y + LABEL_H, width: `${pct}%`, height: BAR_H, fill: '#0b4f8a' })
    const value = svgElement('text', { x: `${pct}%`, dx: 6, y: y + LABEL_H + BAR_H - 2 })
    value.textContent = round(r.value)
    svg.append(label, bar, value)
  })
  return [svg]
}

function svgElement<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Record<string, string | number>,
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, String(v))
  return el
}

function privacy(result: QueryResult): HTMLParagraphElement {
  const p = document.createElement('p')
  p.className = 'result-privacy'
  const pr = result.privacy
  p.textContent =
    pr.mode === 'dp'
      ? `Differentially private: this query spent ε ${(pr.epsilonSpentMilli / 1000).toFixed(3)}; numbers carry calibrated noise.` +
        (pr.threshold ? ` Groups with fewer than about ${Math.ceil(pr.threshold)} rows are withheld.` : '')
      : `Aggregates only: groups smaller than ${pr.minGroupSize} were withheld.`
  return p
}
