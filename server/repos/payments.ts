import { and, asc, count, eq, gt, sql, sum } from 'drizzle-orm';
import type { Db } from '../db/open.js';
import { payments, users, type PaymentRow } from '../../drizzle/schema.js';

const p = sql.placeholder;

export function createPaymentsRepo(db: Db) {
  const page = db
    .select()
    .from(payments)
    .where(and(eq(payments.tenantId, p('tenantId')), gt(payments.id, p('afterId'))))
    .orderBy(asc(payments.id))
    .limit(p('limit'))
    .prepare();
  // A second statement, so the filtered walk uses (tenant_id, user_id, id).
  const pageByUser = db
    .select()
    .from(payments)
    .where(
      and(eq(payments.tenantId, p('tenantId')), eq(payments.userId, p('userId')), gt(payments.id, p('afterId'))),
    )
    .orderBy(asc(payments.id))
    .limit(p('limit'))
    .prepare();
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
    .prepare();
  const totals = db
    .select({ currency: payments.currency, total: sum(payments.amountCents).mapWith(Number), n: count() })
    .from(payments)
    .where(eq(payments.tenantId, p('tenantId')))
    .groupBy(payments.currency)
    .prepare();
  const userCount = db
    .select({ n: count() })
    .from(users)
    .where(eq(users.tenantId, p('tenantId')))
    .prepare();

  return {
    page: (tenantId: number, afterId: number, limit: number, userId?: number): PaymentRow[] =>
      userId === undefined
        ? page.all({ tenantId, afterId, limit })
        : pageByUser.all({ tenantId, userId, afterId, limit }),
    insert: (row: { tenantId: number; userId: number; amountCents: number; currency: string }): PaymentRow => {
      const inserted = insert.get({ ...row, createdAt: Date.now() });
      if (!inserted) throw new Error('insert returned no row');
      return inserted;
    },
    /** The expensive aggregate behind `stats.summary`: a scan of the tenant's payments. */
    summary: (tenantId: number) => {
      const rows = totals.all({ tenantId });
      const totalsByCurrency: Record<string, number> = {};
      let paymentsCount = 0;
      for (const r of rows) {
        totalsByCurrency[r.currency] = r.total;
        paymentsCount += r.n;
      }
      return { users: userCount.get({ tenantId })?.n ?? 0, payments: paymentsCount, totalsByCurrency };
    },
  };
}
export type PaymentsRepo = ReturnType<typeof createPaymentsRepo>;
