// The test worker's env: the worker's bindings plus the migrations vitest.config.ts passes in.
import type { Bindings } from '../../worker/src/env'

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {
      TEST_MIGRATIONS: Array<{ name: string; queries: string[] }>
    }
  }
}
