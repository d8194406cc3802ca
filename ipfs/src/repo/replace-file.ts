// Writes a whole file so that readers (and a crash) see the old contents or the new, never part: a
// temporary file beside it, then rename(2), which is atomic on one filesystem. The pin set, pack
// indexes and the spent-ticket list are all written this way.
import { rename, writeFile } from 'node:fs/promises'

export async function replaceFile(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(path + '.tmp', data)
  await rename(path + '.tmp', path)
}
