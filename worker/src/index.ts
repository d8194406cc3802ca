// The Stillflow API: composes one sub-app per resource under /api. Nothing else lives here.
import { Hono } from 'hono'
import type { AppEnv } from './env'
import { onError, unrouted } from './errors'
import { runScheduled } from './indexer'
import { assetHistory } from './routes/asset-history'
import { audit } from './routes/audit'
import { assets } from './routes/assets'
import { auth } from './routes/auth'
import { catalog } from './routes/catalog'
import { chain } from './routes/chain'
import { publications } from './routes/publications'
import { enclave } from './routes/enclave'
import { health } from './routes/health'
import { psi } from './routes/psi'
import { verify } from './routes/verify'
import { reports } from './routes/reports'
import { rpc } from './routes/rpc'
import { handleJobBatch, type JobMessage } from './jobs/queue'
import { handlePublishBatch, PUBLISH_QUEUE, type PublishMessage } from './services/publish-queue'
import { sweepJobs } from './jobs/sweeper'
import { jobs } from './routes/jobs'
import { licences } from './routes/licences'
import { offers } from './routes/offers'
import { tokenMetadata } from './routes/token-metadata'
import { buyerReport } from './routes/buyer-report'
import { wallet } from './routes/wallet'
import { uploads } from './routes/uploads'
import { reference } from './openapi'
import { limitWrites } from './middleware/rate-limit'

export const api = new Hono<AppEnv>()
  .basePath('/api')
  .use('*', limitWrites)
  .route('/health', health)
  .route('/psi/sessions', psi)
  .route('/chain', chain)
  .route('/rpc', rpc)
  .route('/enclave', enclave)
  .route('/assets', assets)
  .route('/uploads', uploads)
  .route('/verify', verify)
  .route('/auth', auth)
  .route('/publications', publications)
  .route('/assets', assetHistory)
  .route('/assets', catalog)
  .route('/audit', audit)
  .route('/reports', reports)
  .route('/offers', offers)
  .route('/metadata', tokenMetadata)
  .route('/licences', licences)
  .route('/jobs', jobs)
  .route('/reports', buyerReport)
  .route('/wallet', wallet)
  .route('/', reference)

const app = new Hono<AppEnv>()
app.route('/', api)
app.notFound(unrouted(app.routes))
app.onError(onError)

export type AppType = typeof api
export { app }
export { PsiSession } from './psi/session'

export default {
  fetch: app.fetch,
  // The indexer's cron (wrangler.toml [triggers]); locally `npm start` calls /cdn-cgi/handler/scheduled.
  scheduled(controller, env, ctx) {
    ctx.waitUntil(runScheduled(env, controller.scheduledTime))
    // Compute jobs: expire overdue ones, re-enqueue stale ones, drop results past retention.
    ctx.waitUntil(sweepJobs(env))
  },
  // wrangler.toml [[queues.consumers]]: publications to finish, and the job queue with its dead letters.
  queue(batch, env) {
    if (batch.queue === PUBLISH_QUEUE) return handlePublishBatch(batch as MessageBatch<PublishMessage>, env)
    return handleJobBatch(batch as MessageBatch<JobMessage>, env)
  },
} satisfies ExportedHandler<AppEnv['Bindings']>
