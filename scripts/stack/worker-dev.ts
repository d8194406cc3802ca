// Runs the worker locally the way `wrangler dev` does (wrangler.toml, workerd, the same persisted D1/R2
// state and `/__scheduled`), but through wrangler's programmatic `unstable_startWorker` with the
// DevTools inspector switched off. Started by startStack as its own process:
//   node --import tsx scripts/stack/worker-dev.ts --config wrangler.toml --host H --port P
//        --persist-to DIR --env-file FILE
//
// Why not the `wrangler dev` command: it always attaches its inspector proxy, which enables the CDP
// Network domain on the worker, buffers every event while no DevTools client is connected, and posts
// each one to wrangler's Node process over a new loopback connection (cloudflare/workers-sdk#14191).
// A worker that streams a large upload to IPFS or the enclave emits one event per chunk: under
// `wrangler dev` a 256 MiB publish opened ~20,000 sockets (workerd: "Too many open files"), grew
// wrangler's Node process and the proxy's workerd past 1 GiB each, and never recovered (measured
// 2026-11-22, bench/RESULTS.md "publish"). Debugging with DevTools is still `npx wrangler dev`.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { unstable_startWorker } from 'wrangler'

function fail(message: string): never {
  process.stderr.write(`worker: ${message}\n`)
  process.exit(1)
}

const { values } = parseArgs({
  options: {
    config: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'persist-to': { type: 'string' },
    'env-file': { type: 'string' },
  },
  strict: true,
})
for (const name of ['config', 'host', 'port', 'persist-to', 'env-file'] as const) {
  if (!values[name]) fail(`--${name} is required`)
}
const port = Number(values.port)
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port must be a port number, got "${values.port}"`)

const worker = await unstable_startWorker({
  config: resolve(values.config!),
  envFiles: [resolve(values['env-file']!)],
  // What `wrangler dev` derives from wrangler.toml's `nodejs_compat` flag; the programmatic API does not.
  build: { nodejsCompatMode: 'v2' },
  dev: {
    inspector: false,
    server: { hostname: values.host, port },
    persist: resolve(values['persist-to']!),
    testScheduled: true,
    watch: false,
    liveReload: false,
    logLevel: 'info',
  },
})
await worker.ready
process.stdout.write(JSON.stringify({ url: (await worker.url).href }) + '\n')

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  worker.dispose().then(
    () => process.exit(0),
    (err: Error) => fail(`error while stopping: ${err.message}`),
  )
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
