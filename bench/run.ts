// Runs every `bench/*.bench.ts` (or those named on the command line) and prints one ratio per line.
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { BenchResult } from './lib'

const here = dirname(fileURLToPath(import.meta.url))
const filter = process.argv.slice(2)
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filter.length === 0 || filter.some((x) => f.includes(x)))
  .sort()

const all: BenchResult[] = []
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<BenchResult[]> }
  process.stdout.write(`\n# ${file}\n`)
  for (const r of await mod.default()) {
    all.push(r)
    const verdict = r.pass ? 'PASS' : 'MISS'
    process.stdout.write(
      `${verdict}  ${r.name}: ${r.subject} / ${r.baseline} = ${r.ratio.toFixed(3)} (${r.ratioMeaning}; target ${r.target})` +
        (r.details ? `  ${JSON.stringify(r.details)}` : '') +
        '\n',
    )
  }
}
const missed = all.filter((r) => !r.pass).length
process.stdout.write(`\n${all.length - missed} of ${all.length} benchmark targets met\n`)
