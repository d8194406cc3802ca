// The Stillflow API: composes one sub-app per resource under /api. Nothing else lives here.
import { Hono } from 'hono'
import type { AppEnv } from './env'
import { notFound, onError } from './errors'
import { health } from './routes/health'

export const api = new Hono<AppEnv>().basePath('/api').route('/health', health)

const app = new Hono<AppEnv>()
app.route('/', api)
app.notFound(notFound)
app.onError(onError)

export type AppType = typeof api
export { app }

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<AppEnv['Bindings']>
