import { and, asc, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { users, type UserRow } from '../../drizzle/schema.js';
import type { User } from '../../shared/schemas/users.js';

const p = sql.placeholder;

export function toUser(row: UserRow): User {
  return { id: row.id, name: row.name, email: row.email, createdAt: new Date(row.createdAt).toISOString() };
}

/** Users of one tenant. Statements are prepared once: a rebuilt drizzle query costs about 6× more. */
export function createUsersRepo(db: Db) {
  const page = db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, p('tenantId')), gt(users.id, p('afterId'))))
    .orderBy(asc(users.id))
    .limit(p('limit'))
    .prepare();
  const byId = db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, p('tenantId')), eq(users.id, p('id'))))
    .prepare();
  const insert = db
    .insert(users)
    .values({ tenantId: p('tenantId'), name: p('name'), email: p('email'), createdAt: p('createdAt') })
    .returning()
    .prepare();
  const remove = db.delete(users).where(and(eq(users.tenantId, p('tenantId')), eq(users.id, p('id')))).prepare();

  return {
    /** Keyset page: rows with id > afterId, ascending; `limit` is the page size plus one to detect more. */
    page: (tenantId: number, afterId: number, limit: number): UserRow[] => page.all({ tenantId, afterId, limit }),
    byId: (tenantId: number, id: number): UserRow | undefined => byId.get({ tenantId, id }),
    insert: (tenantId: number, name: string, email: string): UserRow => {
      const row = insert.get({ tenantId, name, email, createdAt: Date.now() });
      if (!row) throw new Error('insert returned no row');
      return row;
    },
    remove: (tenantId: number, id: number): number => remove.run({ tenantId, id }).changes,
  };
}
export type UsersRepo = ReturnType<typeof createUsersRepo>;
