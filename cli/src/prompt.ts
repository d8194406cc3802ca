// Questions on the terminal before a command spends the user's money (buy, withdraw).
import { createInterface } from 'node:readline/promises'

/** A yes/no question on the terminal (stderr), default no. */
export async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim())
  } finally {
    rl.close()
  }
}
