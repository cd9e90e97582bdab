import BetterSqlite3 from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import * as schema from '../../../drizzle/schema.js';
import type { ConnectOptions, Database } from '../database.js';
import { openDatabase } from '../open.js';
import { isEmpty, seed } from '../seed.js';
import type { Repos } from '../../repos/repos.js';
import { createSqliteUsersRepo } from '../../repos/sqlite/users.js';
import { createSqlitePaymentsRepo } from '../../repos/sqlite/payments.js';
import { createSqliteApiKeysRepo } from '../../repos/sqlite/api-keys.js';
import { sqliteCursorSecret } from '../../repos/sqlite/server-meta.js';
import { createSqliteIdempotencyStore } from '../../idempotency/sqlite-store.js';
import { alreadyHeld, createWriteLock } from './write-lock.js';

export interface SqliteDatabase extends Database {
  readonly dialect: 'sqlite';
  /** The writer connection, for SQLite-only operations (checkpoints, integrity checks). */
  readonly sqlite: BetterSqlite3.Database;
}

/**
 * SQLite behind the async interface: one writer connection, whose writes
 * take turns through a write lock (a transaction may await between its
 * statements), and one reader connection for everything read outside a
 * transaction. In WAL mode the reader sees the last commit and never an
 * open transaction's rows; better-sqlite3 is synchronous, so a read costs
 * what it did before, plus one resolved promise.
 */
export async function openSqlite(url: string, opts: ConnectOptions): Promise<SqliteDatabase> {
  const { sqlite: writer, db: writeDb } = openDatabase(url);
  // Processes sharing the file serialise here on SQLite's own write lock (busy_timeout).
  await opts.onMigrated?.({ isEmpty: async () => isEmpty(writer), seed: async (o) => seed(writer, o) });
  // `:memory:` is one database per connection: the writer must read too.
  const memory = writer.memory;
  const reader = memory ? writer : new BetterSqlite3(writer.name, { fileMustExist: true });
  if (!memory) {
    reader.pragma('busy_timeout = 5000');
    reader.pragma('query_only = ON');
  }
  const readDb = memory ? writeDb : drizzle(reader, { schema });
  const lock = createWriteLock();
  const tx: Repos = {
    users: createSqliteUsersRepo(writeDb, writeDb, alreadyHeld),
    payments: createSqlitePaymentsRepo(writeDb, writeDb, alreadyHeld),
  };
  const begin = writer.prepare('BEGIN IMMEDIATE');
  const commit = writer.prepare('COMMIT');
  const rollback = writer.prepare('ROLLBACK');

  return {
    dialect: 'sqlite',
    sqlite: writer,
    users: createSqliteUsersRepo(readDb, writeDb, lock),
    payments: createSqlitePaymentsRepo(readDb, writeDb, lock),
    apiKeys: createSqliteApiKeysRepo(readDb),
    transaction: (work) =>
      lock(async () => {
        begin.run();
        try {
          const value = await work(tx);
          commit.run();
          return value;
        } catch (err) {
          if (writer.inTransaction) rollback.run();
          throw err;
        }
      }),
    idempotencyStore: ({ lockMs, now }) => createSqliteIdempotencyStore({ writer, reader, lock, tx, lockMs, now }),
    cursorSecret: (configured) => lock(() => sqliteCursorSecret(writer, configured)),
    query<R>(text: string, params: readonly unknown[] = []): Promise<R[]> {
      return lock(() => {
        const statement = writer.prepare(text);
        if (statement.reader) return statement.all(...params) as R[];
        statement.run(...params);
        return [];
      });
    },
    ping: async () => {
      reader.prepare('SELECT 1').get();
    },
    close: () =>
      lock(() => {
        if (!memory) reader.close();
        writer.close();
      }),
  };
}
