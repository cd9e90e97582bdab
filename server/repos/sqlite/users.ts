import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { SqliteError } from 'better-sqlite3';
import type { Db } from '../../db/open.js';
import { users } from '../../../drizzle/schema.js';
import { DuplicateError, type UsersRepo } from '../repos.js';
import type { WriteLock } from '../../db/sqlite/write-lock.js';

const p = sql.placeholder;

/**
 * Users on SQLite. Statements are prepared once (a rebuilt drizzle query
 * costs about 6× more): reads on `read`, writes on `write` inside `lock`
 * (the one writer connection's turn; see write-lock.ts).
 */
export function createSqliteUsersRepo(read: Db, write: Db, lock: WriteLock): UsersRepo {
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
    page: async (tenantId, afterId, limit) => page.all({ tenantId, afterId, limit }),
    byId: async (tenantId, id) => byId.get({ tenantId, id }),
    insert: (tenantId, name, email) =>
      lock(() => {
        try {
          const row = insert.get({ tenantId, name, email, createdAt: Date.now() });
          if (!row) throw new Error('insert returned no row');
          return row;
        } catch (err) {
          if (err instanceof SqliteError && err.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new DuplicateError(err.message);
          throw err;
        }
      }),
    remove: (tenantId, id) => lock(() => remove.run({ tenantId, id }).changes),
  };
}
