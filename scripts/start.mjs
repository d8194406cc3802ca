// `npm start`: install what is missing, then bring up the whole marketplace (scripts/stack).
import { ensureInstalled, root } from './bootstrap.mjs'

ensureInstalled()
const { register } = await import('tsx/esm/api')
register()
process.chdir(root)
const { main } = await import('./dev.ts')
await main(process.argv.slice(2))
