// Shows a failed flow's error the one way every page does: the plain sentence as the line's text and,
// when the failure has a code, a small muted "Reference: …" under it (and the same code in data-code), so a
// person can quote it to support without a developer code in the sentence. Text is set as text only.
import { explainError } from './errors'

/**
 * Fills `line` (an error element, usually role=alert) with "`lead`: sentence" and its reference, and shows it.
 * @example showError(error, err, 'The query did not run')
 */
export function showError(line: HTMLElement, err: unknown, lead = ''): void {
  const { message, reference } = explainError(err)
  line.replaceChildren(lead ? `${lead}: ${message}` : message)
  if (reference) {
    const small = document.createElement('small')
    small.className = 'error-reference'
    small.textContent = `Reference: ${reference}`
    // The space keeps the line's text (what a screen reader or a copy reads) two separate sentences.
    line.append(' ', small)
    line.dataset.code = reference
  } else delete line.dataset.code
  line.hidden = false
}
