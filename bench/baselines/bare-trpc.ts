import { initTRPC } from '@trpc/server';
import { createHTTPServer } from '@trpc/server/adapters/standalone';
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { openDatabase } from '../../server/db/open.js';
import { users } from '../../drizzle/schema.js';

// The reference: tRPC's standalone adapter with nothing else, serving the
// same JSON and doing the same prepared read as Composure's users.byId.
const { db } = openDatabase(process.env.DATABASE_URL ?? ':memory:');
const byId = db
  .select()
  .from(users)
  .where(and(eq(users.tenantId, sql.placeholder('tenantId')), eq(users.id, sql.placeholder('id'))))
  .prepare();
const t = initTRPC.create();
// What a cache hit returns, computed once: the bare adapter's best case.
const fixed = JSON.parse(process.env.FIXED_JSON ?? '{}') as unknown;
const router = t.router({
  fixed: t.procedure.input(z.object({ id: z.number().int().positive() })).query(() => fixed),
  byId: t.procedure.input(z.object({ id: z.number().int().positive() })).query(({ input }) => {
    const row = byId.get({ tenantId: 1, id: input.id });
    if (!row) throw new Error('missing');
    return { id: row.id, name: row.name, email: row.email, createdAt: new Date(row.createdAt).toISOString() };
  }),
  stats: t.procedure.query(() => {
    const totals = db.all<{ currency: string; total: number; n: number }>(
      sql`SELECT currency, sum(amount_cents) AS total, count(*) AS n FROM payments WHERE tenant_id = 1 GROUP BY currency`,
    );
    return { totals };
  }),
});
const server = createHTTPServer({ router, basePath: '/trpc/' });
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(`bare tRPC listening on http://127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
