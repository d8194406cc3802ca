// The pin set: which roots the repo keeps, persisted as one JSON file that is replaced atomically.

import { readFile } from 'node:fs/promises'
import { replaceFile } from './replace-file'
import { PinStateError } from '../errors'

/** Kubo's two stored pin kinds; "indirect" is derived from recursive pins, never stored. */
export type StoredPinType = 'recursive' | 'direct'

interface PinFile {
  version: 1
  pins: Record<string, StoredPinType>
}

export class PinSet {
  private queue: Promise<void> = Promise.resolve()

  private constructor(
    private readonly file: string,
    private readonly pins: Map<string, StoredPinType>,
  ) {}

  /** Loads the pin file, or starts empty when it does not exist yet. */
  static async load(file: string): Promise<PinSet> {
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new PinSet(file, new Map())
      throw err
    }
    const parsed = JSON.parse(text) as PinFile
    if (parsed.version !== 1 || typeof parsed.pins !== 'object' || parsed.pins === null) {
      throw new Error(`unrecognised pin file ${file}`)
    }
    return new PinSet(file, new Map(Object.entries(parsed.pins)))
  }

  get(cid: string): StoredPinType | undefined {
    return this.pins.get(cid)
  }

  entries(): Array<[string, StoredPinType]> {
    return [...this.pins.entries()]
  }

  /**
   * Pins `cid`. As in Kubo, a recursive pin replaces a direct one, and a direct pin on a
   * recursively pinned root is refused.
   */
  add(cid: string, type: StoredPinType): Promise<void> {
    return this.mutate(() => {
      const current = this.pins.get(cid)
      if (type === 'direct' && current === 'recursive') {
        throw new PinStateError(`${cid} already pinned recursively`)
      }
      if (current === type) return false
      this.pins.set(cid, type)
      return true
    })
  }

  /** Unpins `cid`; a recursive pin is only removed when `recursive` is true (Kubo's rule). */
  remove(cid: string, recursive: boolean): Promise<void> {
    return this.mutate(() => {
      const current = this.pins.get(cid)
      if (current === undefined) throw new PinStateError(`${cid} is not pinned or pinned indirectly`)
      if (current === 'recursive' && !recursive) throw new PinStateError(`${cid} is pinned recursively`)
      this.pins.delete(cid)
      return true
    })
  }

  // Serialised so two concurrent requests never interleave a read-modify-write of the file.
  private mutate(change: () => boolean): Promise<void> {
    const next = this.queue.then(async () => {
      if (change()) await this.persist()
    })
    this.queue = next.catch(() => undefined)
    return next
  }

  private async persist(): Promise<void> {
    const body: PinFile = { version: 1, pins: Object.fromEntries(this.pins) }
    // A crash leaves either the old or the new pin set, never half of one.
    await replaceFile(this.file, JSON.stringify(body, null, 1))
  }
}
