import Database from 'better-sqlite3';
import pg from 'pg';
import { TEST_DATABASE_URL } from './postgres.js';

/**
 * The dialect a test run exercises. The suites are written once; vitest's
 * `postgres` project (vitest.config.ts, when TEST_DATABASE_URL is set) runs
 * the HTTP, property and crash suites again with TEST_DIALECT=postgres, and
 * the helpers then give every server a PostgreSQL database of its own.
 */
export const TEST_DIALECT: 'sqlite' | 'postgres' = process.env.TEST_DIALECT === 'postgres' && TEST_DATABASE_URL ? 'postgres' : 'sqlite';
export const onPostgres = TEST_DIALECT === 'postgres';

/** Raw SQL on a test's database from outside the server (`?` placeholders), read-only by intent. */
export interface DatabaseInspector {
  all<R>(sql: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

/** Opens `target`, a SQLite file or a `postgres://` URL, for a test's closing checks. */
export async function inspectDatabase(target: string): Promise<DatabaseInspector> {
  if (!/^postgres(ql)?:\/\//.test(target)) {
    const db = new Database(target, { readonly: true });
    return { all: async <R>(text: string, params: unknown[] = []) => db.prepare(text).all(...params) as R[], close: async () => void db.close() };
  }
  const client = new pg.Client({ connectionString: target });
  await client.connect();
  return {
    async all<R>(text: string, params: unknown[] = []) {
      let n = 0;
      return (await client.query(text.replace(/\?/g, () => `$${++n}`), params)).rows as R[];
    },
    close: () => client.end(),
  };
}
