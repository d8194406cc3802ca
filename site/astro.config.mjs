// The storefront renders on the server inside the same worker as the API (one origin, no CORS).
import cloudflare from '@astrojs/cloudflare'
import { defineConfig } from 'astro/config'

export default defineConfig({
  output: 'server',
  adapter: cloudflare({ platformProxy: { enabled: false } }),
  // Forms post to the API through the worker; Astro's own origin check would refuse forwarded posts.
  security: { checkOrigin: false },
  devToolbar: { enabled: false },
  // The publish wizard's Web Worker is a module worker (new Worker(url, { type: 'module' })).
  vite: { worker: { format: 'es' } },
})
