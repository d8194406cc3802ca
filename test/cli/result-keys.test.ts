// The CLI's store of per-job result keys (cli/src/result-keys.ts): one file per job, readable by the user
// only, in a directory only the user can enter; ids are checked before they become paths.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CliError, EXIT } from '../../cli/src/exit-codes'
import {
  loadResultKey,
  parseJobId,
  removeResultKey,
  resultKeyDir,
  resultKeyFile,
  saveResultKey,
  type StoredResultKey,
} from '../../cli/src/result-keys'

const JOB = `0x${'ab'.repeat(32)}`
const entry = (over: Partial<StoredResultKey> = {}): StoredResultKey => ({
  jobId: JOB,
  secretKey: `0x${'5e'.repeat(32)}`,
  publicKey: `0x${'0b'.repeat(32)}`,
  apiUrl: 'http://127.0.0.1:8787/api',
  chainId: 31337,
  computeLedger: `0x${'c0'.repeat(20)}`,
  deadline: 1_700_000_900,
  createdAt: 1_700_000_000,
  ...over,
})
const home = () => join(mkdtempSync(join(tmpdir(), 'result-keys-')), 'stillflow')
const mode = (path: string) => statSync(path).mode & 0o777

describe('saveResultKey', () => {
  it('writes one file per job, mode 600, in a directory of mode 700, and loads it back', () => {
    const h = home()
    const file = saveResultKey(h, entry())
    expect(file).toBe(join(h, 'result-keys', `${JOB}.json`))
    expect(mode(file)).toBe(0o600)
    expect(mode(resultKeyDir(h))).toBe(0o700)
    expect(mode(h)).toBe(0o700)
    expect(loadResultKey(h, JOB)).toEqual(entry())
    expect(readdirSync(resultKeyDir(h))).toEqual([`${JOB}.json`]) // no temporary file left behind
  })

  it('closes a result-keys directory someone left open to others', () => {
    const h = home()
    mkdirSync(resultKeyDir(h), { recursive: true, mode: 0o755 })
    saveResultKey(h, entry())
    expect(mode(resultKeyDir(h))).toBe(0o700)
  })

  it('stores the id in lowercase and finds it under either case', () => {
    const h = home()
    saveResultKey(h, entry({ jobId: JOB.toUpperCase().replace('0X', '0x') }))
    expect(loadResultKey(h, JOB)?.jobId).toBe(JOB)
    expect(loadResultKey(h, `0x${'AB'.repeat(32)}`)?.jobId).toBe(JOB)
  })

  it('does not write through a temporary file someone planted as a link', () => {
    const h = home()
    mkdirSync(resultKeyDir(h), { recursive: true })
    const target = join(h, 'elsewhere')
    writeFileSync(target, 'untouched')
    symlinkSync(target, `${resultKeyFile(h, JOB)}.${process.pid}.tmp`)
    saveResultKey(h, entry())
    expect(statSync(target).size).toBe('untouched'.length)
    expect(mode(resultKeyFile(h, JOB))).toBe(0o600)
  })

  it('refuses anything but 32 bytes of hex as a key, and anything but a job id as a name', () => {
    const h = home()
    for (const secretKey of ['', '0x', `0x${'5e'.repeat(31)}`, `0x${'zz'.repeat(32)}`, '5e'.repeat(32)])
      expect(() => saveResultKey(h, entry({ secretKey }))).toThrow(/32 bytes/)
    for (const jobId of ['', '0x12', `0x${'ab'.repeat(33)}`, '../../etc/passwd', `0x${'ab'.repeat(31)}/..`])
      expect(() => saveResultKey(h, entry({ jobId }))).toThrow(/is not a job id/)
    expect(existsSync(resultKeyDir(h))).toBe(false)
  })
})

describe('loadResultKey', () => {
  it('is undefined when this machine holds no key for the job', () => {
    expect(loadResultKey(home(), JOB)).toBeUndefined()
  })

  it('refuses a damaged file or one for another job with the failure code, naming the file', () => {
    const h = home()
    saveResultKey(h, entry())
    writeFileSync(resultKeyFile(h, JOB), '{ not json')
    expect(() => loadResultKey(h, JOB)).toThrow(CliError)
    expect(() => loadResultKey(h, JOB)).toThrow(resultKeyFile(h, JOB))
    writeFileSync(resultKeyFile(h, JOB), JSON.stringify(entry({ jobId: `0x${'cd'.repeat(32)}` })))
    expect(() => loadResultKey(h, JOB)).toThrow(/not a valid result key file/)
    try {
      loadResultKey(h, JOB)
    } catch (err) {
      expect((err as CliError).exitCode).toBe(EXIT.failure)
    }
  })

  it('refuses a path for an id that is not one', () => {
    expect(() => loadResultKey(home(), '../session')).toThrow(/is not a job id/)
  })
})

describe('removeResultKey', () => {
  it('forgets the key, and is quiet when there was none', () => {
    const h = home()
    saveResultKey(h, entry())
    removeResultKey(h, JOB)
    expect(existsSync(resultKeyFile(h, JOB))).toBe(false)
    expect(() => removeResultKey(h, JOB)).not.toThrow()
  })
})

describe('parseJobId', () => {
  it('accepts 0x and 64 hex digits in either case, as lowercase', () => {
    expect(parseJobId(JOB)).toBe(JOB)
    expect(parseJobId(`0x${'AB'.repeat(32)}`)).toBe(JOB)
    for (const bad of [undefined, '', 'result', JOB.slice(2), `${JOB}0`, `0x${'g'.repeat(64)}`])
      expect(parseJobId(bad)).toBeUndefined()
  })
})
