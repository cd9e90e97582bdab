import { defineConfig } from 'drizzle-kit';

// `npm run db:generate:postgres`: the PostgreSQL migrations, beside SQLite's (drizzle.config.ts).
export default defineConfig({
  dialect: 'postgresql',
  schema: './drizzle/postgres/schema.ts',
  out: './drizzle/postgres/migrations',
});
