// Owns the Solidity build: contracts/src → solc (npm, standard JSON) → contracts/out/ → contracts/generated.ts.
// `npx tsx contracts/build.ts` builds; `--check` exits 1 when generated.ts is stale; `--force` ignores the cache.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
const here = dirname(fileURLToPath(import.meta.url))
const srcDir = join(here, 'src')
const outDir = join(here, 'out')
const cacheFile = join(outDir, 'build.json')
/** The only file through which TypeScript reaches the contracts (STYLE.md: viem layout). */
export const generatedPath = join(here, 'generated.ts')

/** Compiler settings; part of the cache key. */
export const solcSettings = {
  evmVersion: 'cancun',
  optimizer: { enabled: true, runs: 1000 },
  outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
} as const

/** Production contracts, exported through contracts/index.ts. */
const PRODUCT = [
  'DataAssetNFT',
  'DataMarket',
  'EnclaveRegistry',
  'ComputeLedger',
  'LedgerAnchor',
  'PsiComparator',
] as const
/** Test-only contracts (contracts/src/test/): exported from generated.ts as `testOnly`, never from index.ts. */
const TEST_ONLY = ['TestERC20', 'PlainERC721', 'TestReceiver', 'TestWallet1271'] as const

interface Artifact {
  abi: unknown[]
  bytecode: string
}
interface Cache {
  hash: string
  artifacts: Record<string, Artifact>
}

function listSol(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...listSol(p))
    else if (entry.name.endsWith('.sol')) out.push(p)
  }
  return out.sort()
}

function readSources(): Record<string, { content: string }> {
  const sources: Record<string, { content: string }> = {}
  for (const file of listSol(srcDir)) {
    sources[relative(here, file).split(sep).join('/')] = { content: readFileSync(file, 'utf8') }
  }
  return sources
}

function solcVersion(): string {
  return (require('solc/package.json') as { version: string }).version
}

function ozVersion(): string {
  return (require('@openzeppelin/contracts/package.json') as { version: string }).version
}

/** Cache key: every source file, the compiler and library versions, and the settings. */
function sourceHash(sources: Record<string, { content: string }>): string {
  const h = createHash('sha256')
  h.update(JSON.stringify({ solc: solcVersion(), oz: ozVersion(), settings: solcSettings }))
  for (const [path, { content }] of Object.entries(sources)) h.update(`\0${path}\0${content}`)
  return h.digest('hex')
}

function findImports(path: string): { contents: string } | { error: string } {
  try {
    return { contents: readFileSync(require.resolve(path), 'utf8') }
  } catch (err) {
    return { error: `cannot resolve import ${path}: ${(err as Error).message}` }
  }
}

interface SolcError {
  severity: 'error' | 'warning' | 'info'
  formattedMessage: string
  sourceLocation?: { file: string }
}

async function compile(sources: Record<string, { content: string }>): Promise<Record<string, Artifact>> {
  const solc = (await import('solc')).default as { compile(input: string, cb: { import: typeof findImports }): string }
  const input = { language: 'Solidity', sources, settings: solcSettings }
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as {
    errors?: SolcError[]
    contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string } } }>>
  }
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error')
  // Warnings in our sources fail the build too: a warning in a contract that holds money is a bug until
  // shown otherwise. OpenZeppelin's own (the EIP-1153 note on its transient reentrancy guard) are known.
  const warnings = (output.errors ?? []).filter(
    (e) => e.severity === 'warning' && !e.sourceLocation?.file.startsWith('@openzeppelin/'),
  )
  if (errors.length > 0 || warnings.length > 0) {
    throw new Error(
      `solc reported ${errors.length} error(s), ${warnings.length} warning(s):\n` +
        [...errors, ...warnings].map((e) => e.formattedMessage).join('\n'),
    )
  }
  const artifacts: Record<string, Artifact> = {}
  for (const [path, contracts] of Object.entries(output.contracts ?? {})) {
    if (!path.startsWith('src/')) continue
    for (const [name, c] of Object.entries(contracts)) {
      if (c.evm.bytecode.object.length === 0) continue // interfaces and abstract contracts
      artifacts[name] = { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` }
    }
  }
  for (const name of [...PRODUCT, ...TEST_ONLY]) {
    if (!artifacts[name]) throw new Error(`solc produced no bytecode for ${name}`)
  }
  return artifacts
}

const lowerFirst = (s: string) => s[0].toLowerCase() + s.slice(1)
const exportName = (name: string) => lowerFirst(name.replace(/^DataAssetNFT$/, 'DataAssetNft'))

/** Renders generated.ts; a pure function of the artifacts and the hash, so the output is deterministic. */
function render(hash: string, artifacts: Record<string, Artifact>): string {
  const lines = [
    '// GENERATED by contracts/build.ts from contracts/src — do not edit. Regenerate: npx tsx contracts/build.ts',
    `// solc ${solcVersion()}, @openzeppelin/contracts ${ozVersion()}, evmVersion ${solcSettings.evmVersion}, ` +
      `optimizer runs ${solcSettings.optimizer.runs}`,
    `// source hash: ${hash}`,
    '',
  ]
  for (const name of PRODUCT) {
    const a = artifacts[name]
    lines.push(`export const ${exportName(name)}Abi = ${JSON.stringify(a.abi, null, 2)} as const`, '')
    lines.push(`export const ${exportName(name)}Bytecode = '${a.bytecode}' as const`, '')
  }
  lines.push('/** Test-only contracts from contracts/src/test/. Never deploy these outside tests and benchmarks. */')
  lines.push('export const testOnly = {')
  for (const name of TEST_ONLY) {
    const a = artifacts[name]
    lines.push(`  ${name}: {`, `    abi: ${JSON.stringify(a.abi)},`, `    bytecode: '${a.bytecode}',`, '  },')
  }
  lines.push('} as const', '')
  return lines.join('\n')
}

function readCache(hash: string): Cache | undefined {
  if (!existsSync(cacheFile)) return undefined
  try {
    const cache = JSON.parse(readFileSync(cacheFile, 'utf8')) as Cache
    return cache.hash === hash ? cache : undefined
  } catch {
    return undefined // a corrupt cache is rebuilt, never trusted
  }
}

/** Returns the text generated.ts should have now, compiling only when the cache misses. */
async function expectedGenerated(force: boolean): Promise<{ text: string; cached: boolean }> {
  const sources = readSources()
  const hash = sourceHash(sources)
  const hit = force ? undefined : readCache(hash)
  if (hit) return { text: render(hash, hit.artifacts), cached: true }
  const artifacts = await compile(sources)
  mkdirSync(outDir, { recursive: true })
  writeFileSync(cacheFile, JSON.stringify({ hash, artifacts } satisfies Cache))
  return { text: render(hash, artifacts), cached: false }
}

/**
 * Compiles contracts/src (unless the cache in contracts/out/ matches every source and setting) and
 * writes contracts/generated.ts. `cached` is true when solc did not run.
 * @example await buildContracts() // → { cached: true } on a warm cache
 */
export async function buildContracts(opts: { force?: boolean } = {}): Promise<{ cached: boolean }> {
  const { text, cached } = await expectedGenerated(opts.force ?? false)
  const current = existsSync(generatedPath) ? readFileSync(generatedPath, 'utf8') : ''
  if (current !== text) writeFileSync(generatedPath, text)
  return { cached }
}

/** True when `path` (default contracts/generated.ts) is exactly what a build would write now. */
export async function isGeneratedFresh(path: string = generatedPath): Promise<boolean> {
  const { text } = await expectedGenerated(false)
  return existsSync(path) && readFileSync(path, 'utf8') === text
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2)
  try {
    if (args.includes('--check')) {
      if (!(await isGeneratedFresh())) {
        process.stderr.write(
          'contracts/generated.ts is stale: it does not match contracts/src. Run `npx tsx contracts/build.ts` and commit the result.\n',
        )
        process.exit(1)
      }
      process.stdout.write('contracts/generated.ts is up to date\n')
    } else {
      const started = performance.now()
      const { cached } = await buildContracts({ force: args.includes('--force') })
      process.stdout.write(
        `contracts/generated.ts written (${cached ? 'cache hit' : 'compiled'} in ${Math.round(performance.now() - started)} ms)\n`,
      )
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`)
    process.exit(1)
  }
}
