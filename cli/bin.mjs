#!/usr/bin/env node
// `npx stillflow …`: loads the TypeScript CLI through tsx (no build step) and runs it.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('./src/main.ts')
process.exitCode = await main(process.argv.slice(2))
