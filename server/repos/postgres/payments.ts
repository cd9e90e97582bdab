import { and, asc, count, eq, gt, sql } from 'drizzle-orm';
import { payments, users } from '../../../drizzle/postgres/schema.js';
import type { PaymentsRepo } from '../repos.js';
import type { CentsTotal } from '../../../shared/schemas/money.js';
import { rethrow } from '../../db/postgres/pool.js';
import type { PgDb } from './db.js';

const p = sql.placeholder;

/** A total as the wire carries it: a number while exact, else its digits (see centsTotalSchema). */
function toCentsTotal(digits: string): CentsTotal {
  const total = BigInt(digits);
  return total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : total.toString();
}

/** Payments on PostgreSQL: named prepared statements, as for users. */
export function createPostgresPaymentsRepo(db: PgDb): PaymentsRepo {
  const page = db
    .select()
    .from(payments)
    .where(and(eq(payments.tenantId, p('tenantId')), gt(payments.id, p('afterId'))))
    .orderBy(asc(payments.id))
    .limit(p('limit'))
    .prepare('payments_page');
  // A second statement, so the filtered walk uses (tenant_id, user_id, id).
  const pageByUser = db
    .select()
    .from(payments)
    .where(
      and(eq(payments.tenantId, p('tenantId')), eq(payments.userId, p('userId')), gt(payments.id, p('afterId'))),
    )
    .orderBy(asc(payments.id))
    .limit(p('limit'))
    .prepare('payments_page_by_user');
  const insert = db
    .insert(payments)
    .values({
      tenantId: p('tenantId'),
      userId: p('userId'),
      amountCents: p('amountCents'),
      currency: p('currency'),
      createdAt: p('createdAt'),
    })
    .returning()
    .prepare('payments_insert');
  // sum(bigint) is numeric: exact at any size, handed over as its digits.
  const totals = db
    .select({ currency: payments.currency, total: sql<string>`sum(${payments.amountCents})::text`, n: count() })
    .from(payments)
    .where(eq(payments.tenantId, p('tenantId')))
    .groupBy(payments.currency)
    .prepare('payments_totals');
  const userCount = db
    .select({ n: count() })
    .from(users)
    .where(eq(users.tenantId, p('tenantId')))
    .prepare('users_count');

  return {
    page: (tenantId, afterId, limit, userId) =>
      (userId === undefined
        ? page.execute({ tenantId, afterId, limit })
        : pageByUser.execute({ tenantId, userId, afterId, limit })
      ).catch(rethrow),
    async insert(row) {
      const [inserted] = await insert.execute({ ...row, createdAt: Date.now() }).catch(rethrow);
      if (!inserted) throw new Error('insert returned no row');
      return inserted;
    },
    async summary(tenantId) {
      const [rows, counted] = await Promise.all([totals.execute({ tenantId }), userCount.execute({ tenantId })]).catch(rethrow);
      const totalsByCurrency: Record<string, CentsTotal> = {};
      let paymentsCount = 0;
      for (const r of rows) {
        totalsByCurrency[r.currency] = toCentsTotal(r.total);
        paymentsCount += r.n;
      }
      return { users: counted[0]?.n ?? 0, payments: paymentsCount, totalsByCurrency };
    },
  };
}
