// Applies worker/migrations to the test D1 exactly as `wrangler d1 migrations apply` does, recording each
// in `d1_migrations`. (Importing `cloudflare:test` fails to load under vitest 4.1 + pool 0.15.1 here with
// `No such module "node:"`, so its applyD1Migrations is not used.)
import { env } from 'cloudflare:workers'

type Migration = { name: string; queries: string[] }
const db = env.DB
const migrations: Migration[] = env.TEST_MIGRATIONS

await db.exec(
  'CREATE TABLE IF NOT EXISTS d1_migrations(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)',
)
const applied = new Set(
  (await db.prepare('SELECT name FROM d1_migrations').all<{ name: string }>()).results.map((r) => r.name),
)
for (const m of migrations) {
  if (applied.has(m.name)) continue
  await db.batch([
    ...m.queries.map((q) => db.prepare(q)),
    db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').bind(m.name),
  ])
}
