import { and, asc, count, eq, gt, sql } from 'drizzle-orm';
import type { Db } from '../../db/open.js';
import { payments, users } from '../../../drizzle/schema.js';
import type { PaymentInsert, PaymentsRepo, StatsSummary } from '../repos.js';
import type { CentsTotal } from '../../../shared/schemas/money.js';
import type { WriteLock } from '../../db/sqlite/write-lock.js';

const p = sql.placeholder;
const SPLIT = sql.raw('1000000000');

/** A total as the wire carries it: a number while exact, else its digits (see centsTotalSchema). */
export function toCentsTotal(high: string, low: string): CentsTotal {
  const total = BigInt(high) * 1_000_000_000n + BigInt(low);
  return total <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(total) : total.toString();
}

/** The prepared statements behind payments on SQLite, synchronous (better-sqlite3). */
export function sqlitePaymentsStatements(read: Db, write: Db) {
  const page = read
    .select()
    .from(payments)
    .where(and(eq(payments.tenantId, p('tenantId')), gt(payments.id, p('afterId'))))
    .orderBy(asc(payments.id))
    .limit(p('limit'))
    .prepare();
  // A second statement, so the filtered walk uses (tenant_id, user_id, id).
  const pageByUser = read
    .select()
    .from(payments)
    .where(
      and(eq(payments.tenantId, p('tenantId')), eq(payments.userId, p('userId')), gt(payments.id, p('afterId'))),
    )
    .orderBy(asc(payments.id))
    .limit(p('limit'))
    .prepare();
  const insert = write
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
  // Exact at any size: SQLite's SUM of integers fails past 2^63 and a JS
  // number is exact only to 2^53, so the sum is taken in two parts (above and
  // below 1e9 cents), each far from overflowing, and joined as a BigInt.
  const totals = read
    .select({
      currency: payments.currency,
      high: sql<string>`cast(sum(${payments.amountCents} / ${SPLIT}) as text)`,
      low: sql<string>`cast(sum(${payments.amountCents} % ${SPLIT}) as text)`,
      n: count(),
    })
    .from(payments)
    .where(eq(payments.tenantId, p('tenantId')))
    .groupBy(payments.currency)
    .prepare();
  const userCount = read
    .select({ n: count() })
    .from(users)
    .where(eq(users.tenantId, p('tenantId')))
    .prepare();

  return {
    page: (tenantId: number, afterId: number, limit: number, userId?: number) =>
      userId === undefined
        ? page.all({ tenantId, afterId, limit })
        : pageByUser.all({ tenantId, userId, afterId, limit }),
    insert(row: PaymentInsert) {
      const inserted = insert.get({ ...row, createdAt: Date.now() });
      if (!inserted) throw new Error('insert returned no row');
      return inserted;
    },
    summary(tenantId: number): StatsSummary {
      const rows = totals.all({ tenantId });
      const totalsByCurrency: Record<string, CentsTotal> = {};
      let paymentsCount = 0;
      for (const r of rows) {
        totalsByCurrency[r.currency] = toCentsTotal(r.high, r.low);
        paymentsCount += r.n;
      }
      return { users: userCount.get({ tenantId })?.n ?? 0, payments: paymentsCount, totalsByCurrency };
    },
  };
}

/** Payments on SQLite: reads on `read`, the insert on `write` inside `lock`. */
export function createSqlitePaymentsRepo(read: Db, write: Db, lock: WriteLock): PaymentsRepo {
  const s = sqlitePaymentsStatements(read, write);
  return {
    page: async (tenantId, afterId, limit, userId) => s.page(tenantId, afterId, limit, userId),
    insert: (row) => lock(() => s.insert(row)),
    summary: async (tenantId) => s.summary(tenantId),
  };
}
