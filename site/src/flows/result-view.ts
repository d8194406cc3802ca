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
  const barH = 22
  const width = 600
  const labelW = 200
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${width} ${rows.length * barH + 4}`)
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', `Bar chart of ${result.columns[valueCol]}`)
  svg.classList.add('result-chart')
  rows.forEach((r, i) => {
    const y = i * barH + 2
    const text = document.createElementNS(SVG, 'text')
    text.setAttribute('x', String(labelW - 6))
    text.setAttribute('y', String(y + barH * 0.7))
    text.setAttribute('text-anchor', 'end')
    text.setAttribute('font-size', '12')
    text.textContent = r.label.length > 28 ? `${r.label.slice(0, 27)}…` : r.label
    const rect = document.createElementNS(SVG, 'rect')
    rect.setAttribute('x', String(labelW))
    rect.setAttribute('y', String(y + 3))
    rect.setAttribute('height', String(barH - 6))
    rect.setAttribute('width', String(Math.max(1, (Math.abs(r.value) / max) * (width - labelW - 60))))
    rect.setAttribute('fill', '#0b4f8a')
    const value = document.createElementNS(SVG, 'text')
    value.setAttribute('x', String(labelW + (Math.abs(r.value) / max) * (width - labelW - 60) + 4))
    value.setAttribute('y', String(y + barH * 0.7))
    value.setAttribute('font-size', '12')
    value.textContent = round(r.value)
    svg.append(text, rect, value)
  })
  return [svg]
}

function privacy(result: QueryResult): HTMLParagraphElement {
  const p = document.createElement('p')
  p.className = 'result-privacy'
  const pr = result.privacy
  p.textContent =
    pr.mode === 'dp'
      ? `Differentially private: this query spent ε ${(pr.epsilonSpentMilli / 1000).toFixed(3)}; numbers carry calibrated noise.`
      : `Aggregates only: groups smaller than ${pr.minGroupSize} were withheld.`
  return p
}
