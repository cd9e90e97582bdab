import { and, asc, eq, gt, sql } from 'drizzle-orm';
import { users } from '../../../drizzle/postgres/schema.js';
import { DuplicateError, type UsersRepo } from '../repos.js';
import { errorCode, rethrow } from '../../db/postgres/pool.js';
import type { PgDb } from './db.js';

const p = sql.placeholder;
// SQLSTATE unique_violation.
const UNIQUE_VIOLATION = '23505';

/**
 * Users on PostgreSQL: named prepared statements, parsed once per
 * connection by node-postgres and reused on every later call.
 */
export function createPostgresUsersRepo(db: PgDb): UsersRepo {
  const page = db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, p('tenantId')), gt(users.id, p('afterId'))))
    .orderBy(asc(users.id))
    .limit(p('limit'))
    .prepare('users_page');
  const byId = db
    .select()
    .from(users)
    .where(and(eq(users.tenantId, p('tenantId')), eq(users.id, p('id'))))
    .prepare('users_by_id');
  const insert = db
    .insert(users)
    .values({ tenantId: p('tenantId'), name: p('name'), email: p('email'), createdAt: p('createdAt') })
    .returning()
    .prepare('users_insert');
  const remove = db.delete(users).where(and(eq(users.tenantId, p('tenantId')), eq(users.id, p('id')))).prepare('users_remove');

  return {
    page: (tenantId, afterId, limit) => page.execute({ tenantId, afterId, limit }).catch(rethrow),
    byId: async (tenantId, id) => (await byId.execute({ tenantId, id }).catch(rethrow))[0],
    async insert(tenantId, name, email) {
      try {
        const [row] = await insert.execute({ tenantId, name, email, createdAt: Date.now() });
        if (!row) throw new Error('insert returned no row');
        return row;
      } catch (err) {
        if (errorCode(err) === UNIQUE_VIOLATION) throw new DuplicateError('duplicate email');
        return rethrow(err);
      }
    },
    remove: async (tenantId, id) => (await remove.execute({ tenantId, id }).catch(rethrow)).rowCount ?? 0,
  };
}
