import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openSqlite, type SqliteDatabase } from '../../server/db/sqlite/database.js';

export type TempDatabase = SqliteDatabase & { file: string; [Symbol.asyncDispose](): Promise<void> };

/** A freshly migrated SQLite file in a temp folder, removed on dispose. */
export async function tempDatabase(): Promise<TempDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'composure-db-'));
  const file = join(dir, 'test.db');
  const opened = await openSqlite(file, { log: pino({ level: 'silent' }) });
  return Object.assign(opened, {
    file,
    async [Symbol.asyncDispose]() {
      await opened.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
