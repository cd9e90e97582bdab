import type { Config } from '../config.js';
import type { ConnectOptions, Database } from './database.js';
import type { PoolOptions } from './postgres/pool.js';
import { openSqlite } from './sqlite/database.js';

/** Whether DATABASE_URL names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The composition root's one choice of dialect: `postgres://…` is
 * PostgreSQL (drizzle-orm over node-postgres), anything else a SQLite file
 * (or `:memory:`). Migrates, then hands the database to `onMigrated`
 * (seeding) under the dialect's start-up lock. The PostgreSQL driver is
 * loaded only when asked for.
 */
export async function connectDatabase(url: string, opts: ConnectOptions & { pool: PoolOptions }): Promise<Database> {
  if (!isPostgresUrl(url)) return openSqlite(url, opts);
  const { openPostgres } = await import('./postgres/database.js');
  return openPostgres(url, opts);
}

export const poolOptions = (config: Pick<Config, 'DB_POOL_SIZE' | 'DB_TIMEOUT_MS'>): PoolOptions => ({
  size: config.DB_POOL_SIZE,
  timeoutMs: config.DB_TIMEOUT_MS,
});
