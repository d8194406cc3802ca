// Three projects: workerd (worker routes against real D1/R2/Queues), node (contracts, enclave,
// IPFS, scripts), and e2e (the processes `npm start` runs, plus the browser).
import { defineConfig } from 'vitest/config'
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers'
import { existsSync } from 'node:fs'

const workerProject = existsSync('worker/src/index.ts')
  ? [
      {
        plugins: [
          cloudflareTest(async () => ({
            main: './worker/src/index.ts',
            wrangler: { configPath: './wrangler.toml' },
            miniflare: {
              bindings: { TEST_MIGRATIONS: await readD1Migrations('./worker/migrations') },
            },
          })),
        ],
        test: {
          name: 'worker',
          include: ['test/worker/**/*.test.ts'],
          setupFiles: ['./test/worker/apply-migrations.ts'],
          // kubo-rpc-client's dependency tree imports Node builtins the module fallback cannot serve;
          // pre-bundling it with Vite (as wrangler does for the real worker) makes it load in workerd.
          deps: { optimizer: { ssr: { enabled: true, include: ['kubo-rpc-client'] } } },
        },
      },
    ]
  : []

export default defineConfig({
  test: {
    reporters: ['default', './test/support/summary-reporter.ts'],
    projects: [
      ...workerProject,
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/worker/**', 'test/e2e/**', 'node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
})
