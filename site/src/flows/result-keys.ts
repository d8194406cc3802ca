// The result keys of the compute jobs started in this browser, kept in this origin's IndexedDB from just
// before a job is submitted until its result has been opened (or the job ended without one), so that a
// reload, a closed tab or a crash does not lose a result the licence already paid for. One record per job,
// keyed by job id. A key is never sent anywhere and never logged: the enclave seals the result to its
// public half, and only this record can open it.
//
// What a browser cannot promise: IndexedDB is readable by any script of this origin and by anyone with
// the profile's files; clearing site data deletes the keys (and with them every result not yet opened).

const DB = 'stillflow'
const STORE = 'result-keys'
const JOB_ID = /^0x[0-9a-f]{64}$/

export interface KeptResultKey {
  /** 0x and 64 lowercase hex digits. */
  jobId: string
  /** The X25519 secret key the result is sealed to (32 bytes). */
  secretKey: Uint8Array
  /** The account that signed the job, the asset and the query: what the page shows beside the result. */
  buyer: string
  tokenId: string
  query: string
  /** The chain and ComputeLedger the job's receipt must name, as when it was submitted. */
  chainId: number
  computeLedger: string
  /** The request's deadline and when the key was stored, Unix seconds. */
  deadline: number
  createdAt: number
}

/** Thrown when this browser cannot keep a key: the job must then not be submitted. */
export class ResultKeyStorageError extends Error {
  override name = 'ResultKeyStorageError'
}

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    if (typeof indexedDB === 'undefined') return reject(new ResultKeyStorageError('this browser has no IndexedDB'))
    const req = indexedDB.open(DB, 1)
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'jobId' })
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(new ResultKeyStorageError(req.error?.message ?? 'IndexedDB cannot be opened'))
    req.onblocked = () => reject(new ResultKeyStorageError('IndexedDB is blocked by another tab'))
  })
}

async function run<T>(mode: IDBTransactionMode, fn: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await open()
  try {
    return await new Promise<T>((resolve, reject) => {
      const tx = db.transaction(STORE, mode)
      const req = fn(tx.objectStore(STORE))
      // Resolve on commit, not on the request: a key is kept only once it is durably written.
      tx.oncomplete = () => resolve(req.result)
      tx.onerror = () => reject(new ResultKeyStorageError(tx.error?.message ?? 'IndexedDB transaction failed'))
      tx.onabort = () => reject(new ResultKeyStorageError(tx.error?.message ?? 'IndexedDB transaction aborted'))
    })
  } finally {
    db.close()
  }
}

/** Keeps a copy of a job's key; throws ResultKeyStorageError if it could not be written. */
export async function keepResultKey(entry: KeptResultKey): Promise<void> {
  const jobId = entry.jobId.toLowerCase()
  if (!JOB_ID.test(jobId)) throw new ResultKeyStorageError(`${entry.jobId} is not a job id`)
  if (entry.secretKey.length !== 32) throw new ResultKeyStorageError('a result key is 32 bytes')
  await run('readwrite', (s) =>
    s.put({ ...entry, jobId, buyer: entry.buyer.toLowerCase(), secretKey: entry.secretKey.slice() }),
  )
}

/** The kept key of a job, or undefined when this browser holds none. */
export async function resultKeyFor(jobId: string): Promise<KeptResultKey | undefined> {
  return (await run('readonly', (s) => s.get(jobId.toLowerCase()))) as KeptResultKey | undefined
}

/** Every kept key (of jobs whose result has not been opened yet), oldest first. */
export async function keptResultKeys(): Promise<KeptResultKey[]> {
  const all = (await run('readonly', (s) => s.getAll())) as KeptResultKey[]
  return all.sort((a, b) => a.createdAt - b.createdAt)
}

/** Forgets a job's key: its result was opened and kept, or there will never be one. */
export async function forgetResultKey(jobId: string): Promise<void> {
  await run('readwrite', (s) => s.delete(jobId.toLowerCase()))
}
