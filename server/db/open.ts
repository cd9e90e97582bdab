import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { fileURLToPath } from 'node:url';
import * as schema from '../../drizzle/schema.js';
import { preparePrivateDatabaseFile } from './private-file.js';

export type Db = ReturnType<typeof drizzle<typeof schema>>;
export interface OpenDatabase {
  sqlite: Database.Database;
  db: Db;
}

const MIGRATIONS = fileURLToPath(new URL('../../drizzle/migrations', import.meta.url));

/**
 * Opens (creating if needed) the SQLite file, sets the pragmas every
 * connection needs and applies the committed migrations.
 */
export function openDatabase(url: string): OpenDatabase {
  const file = url.startsWith('file:') ? url.slice(5) : url;
  if (file !== ':memory:') preparePrivateDatabaseFile(file);
  const sqlite = new Database(file);
  // WAL lets readers run beside the writer; NORMAL is durable across process
  // crashes in WAL mode (only an OS crash can lose the last commits).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = drizzle(sqlite, { schema });
  migrate(db, { migrationsFolder: MIGRATIONS });
  return { sqlite, db };
}
