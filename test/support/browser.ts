// Launches Debian's chromium through playwright-core with the flags this offline machine needs.
import { execFileSync } from 'node:child_process'
import { chromium, type Browser } from 'playwright-core'

/** Path of the system chromium, or undefined when it is not installed (`.ci/run` installs it). */
export function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined
    } catch {
      // not on PATH under this name; try the next
    }
  }
  return undefined
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = chromiumPath()
  if (!executablePath) throw new Error('chromium is not installed: apt-get install -y chromium')
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}
