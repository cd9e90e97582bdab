import type { ConnectOptions, Database } from './database.js';
import { openSqlite } from './sqlite/database.js';

/** Whether DATABASE_URL names a PostgreSQL server rather than a SQLite file. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * The composition root's one choice of dialect: `postgres://…` is
 * PostgreSQL, anything else a SQLite file (or `:memory:`). Migrates, and
 * seeds an empty database when asked.
 */
export async function connectDatabase(url: string, opts: ConnectOptions): Promise<Database> {
  if (isPostgresUrl(url)) throw new Error('PostgreSQL is not wired yet');
  return openSqlite(url, opts);
}
