// The messages between the publish page and its Web Worker. The worker encrypts, hashes and uploads
// (sdk publish); the page holds the wallet, so the one EIP-712 signature is asked of the page.
import type { DeclarationInput, PublishProgress, PublishResult, TrustedEnclave } from '../../../../sdk/src/index'

export interface StartMessage {
  type: 'start'
  file: File
  format: 'csv' | 'jsonl'
  declaration: DeclarationInput
  owner: string
  apiUrl: string
  /** The enclave the page checked through the user's own wallet (a Web Worker cannot reach the wallet). */
  trusted: TrustedEnclave
}
/** A failure crosses the worker boundary as wallet/errors.ts described it: the sentence and its reference. */
export interface Failure {
  message: string
  reference?: string
}
export type SignReply =
  { type: 'signed'; id: number; signature: string } | ({ type: 'sign-failed'; id: number } & Failure)
export type ToWorker = StartMessage | SignReply

export type FromWorker =
  | { type: 'progress'; progress: PublishProgress }
  | {
      type: 'sign'
      id: number
      domain: Record<string, unknown>
      types: Record<string, unknown>
      value: Record<string, unknown>
    }
  | { type: 'done'; result: PublishResult & { id?: string } }
  | ({ type: 'failed' } & Failure)
