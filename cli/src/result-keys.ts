// The result keys of this machine's compute jobs, kept from just before a job is submitted for as long as
// its result can be opened (the marketplace's retention), so a job whose command stopped waiting (Ctrl-C, a timeout, a lost connection) can still be
// collected with `stillflow job result <jobId>`. One file per job, `<home>/result-keys/<jobId>.json`, mode
// 600 in a mode-700 directory. A key is never printed and never sent anywhere: the enclave seals the result
// to its public half, and only this file can open it.
//
// What JavaScript cannot promise: the key's hex text is a string, which cannot be wiped from memory, and
// the file's bytes stay on the disk's free blocks after it is deleted. File modes mean nothing on Windows.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { CliError, EXIT } from './exit-codes'
import { writePrivateJson } from './private-file'

const JOB_ID = /^0x[0-9a-f]{64}$/
const SECRET = /^0x[0-9a-f]{64}$/

export interface StoredResultKey {
  jobId: string
  /** The X25519 secret key the job's result is sealed to, 0x hex (32 bytes). */
  secretKey: string
  publicKey: string
  /** The API the job was submitted to: its result is collected from there. */
  apiUrl: string
  /** The chain and ComputeLedger the job's receipt must be for, as when it was submitted. */
  chainId: number
  computeLedger: string
  /** The request's deadline, Unix seconds. */
  deadline: number
  /** When the key was stored, Unix seconds. */
  createdAt: number
}

/** A job id as the API writes it (0x and 64 lowercase hex digits), or undefined if `raw` is not one. */
export function parseJobId(raw: string | undefined): string | undefined {
  const id = raw?.toLowerCase()
  return id && JOB_ID.test(id) ? id : undefined
}

export function resultKeyDir(home: string): string {
  return join(home, 'result-keys')
}

/** The file of a job's key; the id is checked first so it can never name a path outside the directory. */
export function resultKeyFile(home: string, jobId: string): string {
  const id = parseJobId(jobId)
  if (!id) throw new CliError(EXIT.usage, `${JSON.stringify(jobId)} is not a job id (0x and 64 hex digits)`)
  return join(resultKeyDir(home), `${id}.json`)
}

/**
 * Stores a job's result key (mode 600, directory mode 700). Written to a fresh temporary file and renamed,
 * so a crash leaves either no file or a whole one; throws if it cannot be stored, and then the job must not
 * be submitted.
 */
export function saveResultKey(home: string, entry: StoredResultKey): string {
  if (!SECRET.test(entry.secretKey)) throw new Error('a result key is 32 bytes of 0x hex')
  const file = resultKeyFile(home, entry.jobId)
  writePrivateJson(file, { ...entry, jobId: parseJobId(entry.jobId) })
  return file
}

/** The stored key of a job, or undefined if this machine holds none. */
export function loadResultKey(home: string, jobId: string): StoredResultKey | undefined {
  const file = resultKeyFile(home, jobId)
  if (!existsSync(file)) return undefined
  let entry: StoredResultKey
  try {
    entry = JSON.parse(readFileSync(file, 'utf8')) as StoredResultKey
  } catch (cause) {
    throw new CliError(EXIT.failure, `${file} is not a readable result key file (${(cause as Error).message})`)
  }
  if (
    entry?.jobId !== parseJobId(jobId) ||
    typeof entry.secretKey !== 'string' ||
    !SECRET.test(entry.secretKey) ||
    typeof entry.apiUrl !== 'string' ||
    !Number.isInteger(entry.chainId)
  )
    throw new CliError(EXIT.failure, `${file} is not a valid result key file for job ${jobId}`)
  return entry
}

/** Forgets a job's key: its result was opened, or there will never be one. */
export function removeResultKey(home: string, jobId: string): void {
  rmSync(resultKeyFile(home, jobId), { force: true })
}
