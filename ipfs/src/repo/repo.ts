// The on-disk repo: a lock so one process owns it, the block store, the pin set, and its size.
//
// Layout under the repo directory:
//   repo.lock   pid of the owning process
//   blocks/     packs/<name>.pack + .idx, one pair per upload (see pack-file.ts); repos written
//               before packs also hold blockstore-fs files (base32 multihash names, sharded by
//               the next-to-last chars), which are still read
//   pins.json   the pin set
//   spent-tickets.jsonl   upload tickets already taken (http/upload.ts), when uploads are enabled

import { mkdir, open, readFile, readdir, stat, statfs, unlink } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { CID } from 'multiformats/cid'
import { RepoLockedError } from '../errors'
import { legacyBlockKey, RepoBlocks } from './blocks'
import { collectGarbage, GcLock, type GcOptions } from './gc'
import { PinSet } from './pins'

export interface RepoStat {
  /** Bytes used by every file under the repo directory. */
  repoSize: number
  /** Blocks held. */
  numObjects: number
  /** repoSize plus what the filesystem can still give this process: no quota is enforced. */
  storageMax: number
  repoPath: string
}

export interface Repo {
  readonly path: string
  readonly blocks: RepoBlocks
  readonly pins: PinSet
  /** Held (shared) while pinning, so a collection never removes what is being pinned. */
  readonly gcLock: GcLock
  stat(): Promise<RepoStat>
  /** Deletes unpinned packs older than the grace period (repo/gc.ts); returns the removed blocks. */
  gc(opts: GcOptions): Promise<CID[]>
  close(): Promise<void>
}

export async function openRepo(dir: string): Promise<Repo> {
  const path = resolve(dir)
  await mkdir(path, { recursive: true })
  const lockFile = join(path, 'repo.lock')
  await acquireLock(lockFile)
  try {
    const blocks = await RepoBlocks.open(join(path, 'blocks'))
    const pins = await PinSet.load(join(path, 'pins.json'))
    const gcLock = new GcLock()
    return {
      path,
      blocks,
      pins,
      gcLock,
      stat: () => repoStat(path, blocks),
      gc: (opts) => collectGarbage({ blocks, pins, gcLock }, opts),
      async close() {
        await blocks.close()
        await unlink(lockFile).catch(() => undefined)
      },
    }
  } catch (err) {
    await unlink(lockFile).catch(() => undefined)
    throw err
  }
}

// Two nodes writing one repo would race on the pin file; a lock left by a dead process is stale
// and is taken over, so a killed `npm start` does not need manual cleanup.
async function acquireLock(lockFile: string): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(lockFile, 'wx')
      await handle.writeFile(String(process.pid))
      await handle.close()
      return
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const owner = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10)
    if (Number.isInteger(owner) && owner > 0 && isAlive(owner)) {
      throw new RepoLockedError(`repo ${lockFile.slice(0, -'/repo.lock'.length)} is locked by process ${owner}`)
    }
    await unlink(lockFile).catch(() => undefined)
  }
  throw new RepoLockedError(`could not take the repo lock ${lockFile}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function repoStat(path: string, blocks: RepoBlocks): Promise<RepoStat> {
  let repoSize = 0
  let numObjects = blocks.packedCount
  const walk = async (dir: string, inBlocks: boolean): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name)
      if (entry.isDirectory()) {
        await walk(full, inBlocks || entry.name === 'blocks')
      } else if (entry.isFile()) {
        // A file can vanish between readdir and stat (a temp file being renamed).
        const size = await stat(full).then(
          (s) => s.size,
          () => 0,
        )
        repoSize += size
        // A pre-pack block file counts unless a pack holds the same block too.
        const key = inBlocks ? legacyBlockKey(entry.name) : undefined
        if (key !== undefined && !blocks.isPacked(key)) numObjects++
      }
    }
  }
  await walk(path, false)
  const fsStat = await statfs(path)
  return { repoSize, numObjects, storageMax: repoSize + fsStat.bavail * fsStat.bsize, repoPath: path }
}
