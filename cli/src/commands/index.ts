// Every command of the CLI, in the order `stillflow --help` lists them.
import type { Command } from '../command'

export const commands: Command[] = []
