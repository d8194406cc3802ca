// Results the buyer decrypted in this browser, kept in this browser only (localStorage), so the buyer
// dashboard can show them again: the result key was wiped after decryption (sdk runComputeJob) and the
// marketplace holds only the sealed bytes, so nothing else could ever show this plaintext.
import type { QueryResult } from '../../../tee-sim/src/index'

export interface KeptResult {
  query: string
  tokenId: string
  result: QueryResult
}

const key = (buyer: string, jobId: string) => `stillflow:result:${buyer.toLowerCase()}:${jobId.toLowerCase()}`

export function rememberResult(buyer: string, jobId: string, kept: KeptResult): void {
  try {
    localStorage.setItem(key(buyer, jobId), JSON.stringify(kept))
  } catch {
    // Storage full or disabled: the result was shown once; the dashboard will say it is not kept here.
  }
}

export function keptResult(buyer: string, jobId: string): KeptResult | null {
  try {
    return JSON.parse(localStorage.getItem(key(buyer, jobId)) ?? 'null') as KeptResult | null
  } catch {
    return null
  }
}
