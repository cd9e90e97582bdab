import { statsInputSchema, statsSummarySchema } from '../../shared/schemas/stats.js';
import { queryProcedure } from '../procedures.js';
import { router } from '../trpc.js';

export const statsRouter = router({
  // A scan of every payment of the tenant: it costs more tokens and is the
  // answer the cache saves most on.
  summary: queryProcedure
    .meta({
      cost: 5,
      cacheTtlMs: 60_000,
      cacheTags: ['users', 'payments', 'stats'],
      cacheAcrossInstances: true,
      rest: { method: 'GET', path: '/api/stats', tag: 'stats', summary: 'The tenant\'s user and payment counts and totals per currency' },
    })
    .input(statsInputSchema)
    .output(statsSummarySchema)
    .query(({ ctx }) => ctx.services.payments.summary(ctx.auth.tenantId)),
});
