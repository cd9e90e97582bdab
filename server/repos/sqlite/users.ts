import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { SqliteError } from 'better-sqlite3';
import type { Db } from '../../db/open.js';
import { users } from '../../../drizzle/schema.js';
import { DuplicateError, type UsersRepo } from '../repos.js';
import type { WriteLock } from '../../db/sqlite/write-lock.js';

const p = sql.placeholder;

/**
 * The prepared statements behind users on SQLite, synchronous (better-sqlite3):
 * prepared once, since a rebuilt drizzle query costs about 6× more.
 */
export function sqliteUsersStatements(read: Db, write: Db) {
  const page = read
    .select()
    .from(users)
    .where(and(eq(users.tenantId, p('tenantId')), gt(users.id, p('afterId'))))
    .orderBy(asc(users.id))
    .limit(p('limit'))
    .prepare();
  const byId = read
    .select()
    .from(users)
    .where(and(eq(users.tenantId, p('tenantId')), eq(users.id, p('id'))))
    .prepare();
  const insert = write
    .insert(users)
    .values({ tenantId: p('tenantId'), name: p('name'), email: p('email'), createdAt: p('createdAt') })
    .returning()
    .prepare();
  const remove = write.delete(users).where(and(eq(users.tenantId, p('tenantId')), eq(users.id, p('id')))).prepare();

  return {
    page: (tenantId: number, afterId: number, limit: number) => page.all({ tenantId, afterId, limit }),
    byId: (tenantId: number, id: number) => byId.get({ tenantId, id }),
    insert(tenantId: number, name: string, email: string) {
      try {
        const row = insert.get({ tenantId, name, email, createdAt: Date.now() });
        if (!row) throw new Error('insert returned no row');
        return row;
      } catch (err) {
        if (err instanceof SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateError(err.message);
        throw err;
      }
    },
    remove: (tenantId: number, id: number) => remove.run({ tenantId, id }).changes,
  };
}

/** Users on SQLite: reads on `read`, writes on `write` inside `lock` (the one writer connection's turn; see write-lock.ts). */
export function createSqliteUsersRepo(read: Db, write: Db, lock: WriteLock): UsersRepo {
  const s = sqliteUsersStatements(read, write);
  return {
    page: async (tenantId, afterId, limit) => s.page(tenantId, afterId, limit),
    byId: async (tenantId, id) => s.byId(tenantId, id),
    insert: (tenantId, name, email) => lock(() => s.insert(tenantId, name, email)),
    remove: (tenantId, id) => lock(() => s.remove(tenantId, id)),
  };
}
