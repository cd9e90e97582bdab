import { TRPCError } from '@trpc/server';
import { ratesInputSchema, ratesSchema } from '../../shared/schemas/rates.js';
import { ERROR_REASONS } from '../../shared/errors.js';
import { ApiError } from '../errors.js';
import { queryProcedure } from '../procedures.js';
import { router } from '../trpc.js';
import { RatesUnavailableError } from '../downstream/rates-service.js';
import { retryAfterSeconds } from '../http/rate-limit-headers.js';

export const ratesRouter = router({
  // The same rates for every tenant: one shared cache entry, fresh for
  // RATES_TTL_MS. The rates service holds the last good answer for
  // RATES_STALE_MS and serves it when the provider fails or the breaker is
  // open; the hints tell the cache its age and that it is stale, so it is
  // marked (Cache-Status ttl < 0, Age) and not stored as fresh.
  latest: queryProcedure
    .meta({
      cacheTtlMs: 'rates',
      cacheTags: ['rates'],
      cacheScope: 'shared',
      cacheAcrossInstances: true,
      rest: { method: 'GET', path: '/api/rates', tag: 'rates', summary: 'The latest exchange rates against USD (possibly stale, see Cache-Status)' },
    })
    .input(ratesInputSchema.default({ base: 'USD' }))
    .output(ratesSchema)
    .query(async ({ ctx }) => {
      try {
        const answer = await ctx.services.rates.latest();
        if (ctx.cacheHints) {
          ctx.cacheHints.storedAt = answer.storedAt;
          if (answer.freshness === 'stale') ctx.cacheHints.stale = true;
        }
        return answer.rates;
      } catch (err) {
        if (!(err instanceof RatesUnavailableError)) throw err;
        // 503 until the breaker lets a trial call through (RFC 9110 §10.2.3).
        ctx.res.setHeader('retry-after', String(retryAfterSeconds(err.retryAfterMs)));
        throw new TRPCError({
          code: 'SERVICE_UNAVAILABLE',
          message: 'Exchange rates are unavailable and no recent answer is stored; retry later.',
          cause: new ApiError({ reason: ERROR_REASONS.upstreamUnavailable, retryAfterMs: err.retryAfterMs }),
        });
      }
    }),
});
