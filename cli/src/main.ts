// The stillflow CLI: parses the command line, runs one command, prints human or --json output, and
// returns an exit code scripts can use (cli/src/exit-codes.ts).
import { parseArgs } from 'node:util'
import type { Command, CommandContext } from './command'
import { commands } from './commands/index'
import { CliError, EXIT, type ExitCode } from './exit-codes'

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length), 4)
  return [
    'usage: stillflow <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'common options: --json (machine-readable output), --help',
    'environment: STILLFLOW_API (default http://127.0.0.1:8787/api), STILLFLOW_RPC (default http://127.0.0.1:8545),',
    '  STILLFLOW_PRIVATE_KEY (instead of --key-file), STILLFLOW_HOME (default ~/.config/stillflow),',
    '  STILLFLOW_REGISTRY (the EnclaveRegistry publish trusts)',
  ].join('\n')
}

export async function main(
  argv: string[],
  io: Partial<Pick<CommandContext, 'stdout' | 'stderr' | 'env'>> = {},
): Promise<ExitCode> {
  const stdout = io.stdout ?? process.stdout
  const stderr = io.stderr ?? process.stderr
  const env = io.env ?? process.env
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    stdout.write(help() + '\n')
    return name ? EXIT.ok : EXIT.usage
  }
  const command: Command | undefined = commands.find((c) => c.name === name)
  if (!command) {
    stderr.write(`stillflow: unknown command "${name}"\n\n${help()}\n`)
    return EXIT.usage
  }
  let ctx: CommandContext
  try {
    const parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { ...command.options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    })
    if (parsed.values.help) {
      stdout.write(`usage: ${command.usage}\n\n${command.summary}\n`)
      return EXIT.ok
    }
    ctx = {
      args: parsed.positionals,
      flags: parsed.values as CommandContext['flags'],
      json: parsed.values.json === true,
      stdout,
      stderr,
      interactive: Boolean((stderr as NodeJS.WriteStream).isTTY) && !parsed.values.json,
      env,
    }
  } catch (err) {
    stderr.write(`stillflow ${name}: ${(err as Error).message}\nusage: ${command.usage}\n`)
    return EXIT.usage
  }
  try {
    const result = await command.run(ctx)
    if (ctx.json && result !== undefined) stdout.write(JSON.stringify(result, null, 2) + '\n')
    return EXIT.ok
  } catch (err) {
    if (err instanceof CliError) {
      if (ctx.json)
        stdout.write(JSON.stringify({ error: { message: err.message, details: err.details } }, null, 2) + '\n')
      stderr.write(`stillflow ${name}: ${err.message}\n`)
      return err.exitCode
    }
    stderr.write(`stillflow ${name}: ${(err as Error).message ?? String(err)}\n`)
    return EXIT.failure
  }
}
