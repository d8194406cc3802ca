// The deployed worker: the API first, then the Astro storefront for every other path. Pages reach the
// API in-process through an `API` binding, so server rendering costs no network hop.
import type { AppEnv } from './env'
import worker, { app } from './index'
export { PsiSession } from './index'
// @ts-ignore -- produced by `astro build` (site/dist) before wrangler bundles this file.
import astro from '../../site/dist/_worker.js/index.js'

type Handler = { fetch: (req: Request, env: unknown, ctx: ExecutionContext) => Promise<Response> }

export default {
  ...worker,
  async fetch(req, env, ctx) {
    if (new URL(req.url).pathname.startsWith('/api/')) return app.fetch(req, env, ctx)
    const API = { fetch: (input: string, init?: RequestInit) => app.fetch(new Request(input, init), env, ctx) }
    return (astro as Handler).fetch(req, { ...env, API }, ctx)
  },
} satisfies ExportedHandler<AppEnv['Bindings']>
