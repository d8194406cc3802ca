// Computes the enclave measurement: SHA-256 of a deterministic bundle of the trusted code, the way
// a TEE measures the image it loads. The host and `npm run measure` both call this.
//
// Bundle (v1), all UTF-8, "\n" line ends:
//   "stillflow-enclave-bundle/v1\n"
//   for each enclave runtime dependency, sorted by name:  "dep <name>@<version> <integrity>\n"
//       (version and integrity from package-lock.json, so the same commit gives the same value)
//   for each measured file, sorted by path (byte order):    "file <path> <length>\n" <contents> "\n"
// Measured files: every *.ts under tee-sim/src except the untrusted host (host.ts, host/**) and
// the simulated hardware (platform/**), plus every repository file outside tee-sim/src that those
// import (transitively, value imports only) — today contracts/index.ts and what it pulls in, where
// the EIP-712 shapes shared with the chain live. Paths are POSIX, relative to the repository root;
// CRLF is normalised to LF so a Windows checkout measures the same.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EnclaveError } from '../errors'

export const BUNDLE_VERSION = 'stillflow-enclave-bundle/v1'

/** npm packages the enclave code imports at run time (and their own runtime dependencies). */
export const ENCLAVE_DEPENDENCIES = [
  '@hpke/common',
  '@hpke/core',
  '@noble/ciphers',
  '@noble/curves',
  '@noble/hashes',
  'ethers',
  'node-sql-parser',
] as const

const here = dirname(fileURLToPath(import.meta.url))
/** tee-sim/src */
export const ENCLAVE_SOURCE_ROOT = join(here, '..')
/** the repository root */
export const REPO_ROOT = join(here, '..', '..', '..')

function isExcluded(rel: string): boolean {
  return rel === 'host.ts' || rel.startsWith('host/') || rel.startsWith('platform/')
}

function listFiles(dir: string, root: string, out: string[]): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name)
    const rel = relative(root, full).split(sep).join('/')
    if (statSync(full).isDirectory()) listFiles(full, root, out)
    else if (name.endsWith('.ts') && !isExcluded(rel)) out.push(rel)
  }
}

export interface BundleEntry {
  path: string
  bytes: Buffer
}

const IMPORT_RE = /^\s*(import|export)\s+(?!type\s)[^'"]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gm

function resolveImport(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec)
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return undefined
}

/** The measured files, sorted, with normalised contents. */
export function enclaveBundleFiles(sourceRoot = ENCLAVE_SOURCE_ROOT, repoRoot = REPO_ROOT): BundleEntry[] {
  const rels: string[] = []
  listFiles(sourceRoot, sourceRoot, rels)
  const files = new Set(rels.map((r) => join(sourceRoot, r)))
  // Follow value imports that leave tee-sim/src: that code runs inside the enclave too.
  const queue = [...files]
  while (queue.length) {
    const file = queue.pop() as string
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(IMPORT_RE)) {
      const target = resolveImport(file, m[2])
      if (!target || files.has(target)) continue
      const inSource = !relative(sourceRoot, target).startsWith('..')
      if (inSource) continue // inside tee-sim/src: either measured already or deliberately excluded
      files.add(target)
      queue.push(target)
    }
  }
  return [...files]
    .map((full) => {
      const text = readFileSync(full, 'utf8').replace(/\r\n/g, '\n')
      return { path: relative(repoRoot, full).split(sep).join('/'), bytes: Buffer.from(text, 'utf8') }
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** `dep` lines from package-lock.json; throws naming the package when it is missing. */
export function dependencyLines(lockfilePath = join(REPO_ROOT, 'package-lock.json')): string[] {
  const lock = JSON.parse(readFileSync(lockfilePath, 'utf8')) as {
    packages?: Record<string, { version?: string; integrity?: string }>
  }
  return [...ENCLAVE_DEPENDENCIES].sort().map((name) => {
    const entry = lock.packages?.[`node_modules/${name}`]
    if (!entry?.version || !entry.integrity)
      throw new EnclaveError(`package-lock.json has no version/integrity for ${name}`)
    return `dep ${name}@${entry.version} ${entry.integrity}\n`
  })
}

/** The measurement as 0x hex, plus what went into it. */
export function computeMeasurement(opts: { sourceRoot?: string; repoRoot?: string; lockfilePath?: string } = {}): {
  measurement: `0x${string}`
  files: string[]
  dependencies: string[]
} {
  const h = createHash('sha256')
  h.update(`${BUNDLE_VERSION}\n`)
  const deps = dependencyLines(opts.lockfilePath ?? join(opts.repoRoot ?? REPO_ROOT, 'package-lock.json'))
  for (const line of deps) h.update(line)
  const repoRoot = opts.repoRoot ?? REPO_ROOT
  const sourceRoot = opts.sourceRoot ?? (opts.repoRoot ? join(opts.repoRoot, 'tee-sim', 'src') : ENCLAVE_SOURCE_ROOT)
  const files = enclaveBundleFiles(sourceRoot, repoRoot)
  for (const f of files) {
    h.update(`file ${f.path} ${f.bytes.length}\n`)
    h.update(f.bytes)
    h.update('\n')
  }
  return {
    measurement: `0x${h.digest('hex')}`,
    files: files.map((f) => f.path),
    dependencies: deps.map((d) => d.trim()),
  }
}
