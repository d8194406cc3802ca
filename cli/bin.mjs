#!/usr/bin/env node
// `npx stillflow …`: loads the TypeScript CLI through tsx (no build step) and runs it.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./src/main.ts')
// Exit once the command is done: a handle left open by a library (a provider retrying an unreachable
// chain, a keep-alive socket) must not keep a finished command running. Writes to pipes and files are
// synchronous on Linux and macOS, so nothing printed is lost.
process.exit(await main(process.argv.slice(2)))
