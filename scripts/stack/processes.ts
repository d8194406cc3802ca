// Child processes of the local stack: each in its own process group, logged to a file, stopped as a group.
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'

/** A failure of one named component, with the reason a person can act on. */
export class StackError extends Error {
  override name = 'StackError'
  constructor(
    readonly component: string,
    readonly reason: string,
  ) {
    super(`${component}: ${reason}`)
  }
}

export interface Service {
  name: string
  child: ChildProcess
  logFile: string
  /** Resolves when the process has exited (with its code, or null after a signal). */
  exited: Promise<number | null>
  stop(): Promise<void>
}

/** Resolves if `port` on `host` can be bound now, rejects naming the component otherwise. */
export async function assertPortFree(component: string, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer()
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new StackError(
          component,
          err.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use (is another Stillflow or service running?)`
            : `cannot listen on ${host}:${port}: ${err.message}`,
        ),
      ),
    )
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve()))
  })
}

/** An ephemeral port that was free a moment ago (for tests that run a second stack). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen({ host, port: 0 }, () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => resolve(port))
    })
  })
}

/** Last lines of a log file, for error messages. */
export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log output)'
  }
}

export function spawnService(
  name: string,
  command: string,
  args: string[],
  opts: { cwd: string; logDir: string; env?: NodeJS.ProcessEnv },
): Service {
  mkdirSync(opts.logDir, { recursive: true })
  const logFile = join(opts.logDir, `${name}.log`)
  const log = createWriteStream(logFile, { flags: 'w' })
  // detached: the child leads its own process group, so stopping it also stops what it spawned
  // (wrangler → workerd, npx → node). Killing only the parent leaves orphans (stack-probe §0.3).
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  child.stdout?.pipe(log, { end: false })
  child.stderr?.pipe(log, { end: false })
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code))
    child.once('error', (err) => {
      log.write(`\n${name} could not start: ${err.message}\n`)
      resolve(-1)
    })
  })
  exited.then(() => log.end())
  // If the parent exits without calling stop() (a crash, process.exit), take the group down with it.
  const onParentExit = () => child.pid !== undefined && signalGroup(child.pid, 'SIGKILL')
  process.once('exit', onParentExit)
  exited.then(() => process.removeListener('exit', onParentExit))
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return
    signalGroup(child.pid, 'SIGTERM')
    const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
    // The leader may exit before its children: make sure the whole group is gone.
    signalGroup(child.pid, 'SIGKILL')
  }
  return { name, child, logFile, exited, stop }
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err
  }
}

/**
 * Polls `check` until it returns a value, failing fast if the service exits and after `timeoutMs`.
 * The error names the component and quotes the end of its log.
 */
export async function waitUntilReady<T>(
  service: Service,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let exitCode: number | null | undefined
  service.exited.then((code) => (exitCode = code))
  let lastError = ''
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new StackError(service.name, `exited with code ${exitCode} before it was ready:\n${tail(service.logFile)}`)
    }
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err)
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new StackError(
    service.name,
    `not ready after ${Math.round(timeoutMs / 1000)} s${lastError ? ` (last error: ${lastError})` : ''}:\n${tail(service.logFile)}`,
  )
}

/** fetch with a per-attempt timeout, for readiness probes. */
export async function fetchWithTimeout(url: string, init: RequestInit = {}, ms = 2_000): Promise<Response> {
  return fetch(url, { ...init, signal: AbortSignal.timeout(ms) })
}
