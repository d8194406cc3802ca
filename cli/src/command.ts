// The shape every CLI command has, and the context it runs in.
import type { ParseArgsConfig } from 'node:util'

export interface CommandContext {
  /** Positional arguments after the command name (and sub-command, if any). */
  args: string[]
  /** Parsed --flags. */
  flags: Record<string, string | boolean | string[] | undefined>
  /** Print machine-readable JSON instead of human output. */
  json: boolean
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  /** Whether stderr is a terminal (progress bars and spinners only then). */
  interactive: boolean
  env: NodeJS.ProcessEnv
}

export interface Command {
  name: string
  summary: string
  usage: string
  options?: ParseArgsConfig['options']
  run(ctx: CommandContext): Promise<unknown>
}
