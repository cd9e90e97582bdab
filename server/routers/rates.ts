import { TRPCError } from '@trpc/server';
import { ratesInputSchema, ratesSchema } from '../../shared/schemas/rates.js';
import { ERROR_REASONS } from '../../shared/errors.js';
import { ApiError } from '../errors.js';
import { queryProcedure } from '../procedures.js';
import { router } from '../trpc.js';
import { RatesUnavailableError } from '../downstream/rates-service.js';
import { retryAfterSeconds } from '../http/rate-limit-headers.js';

export const ratesRouter = router({
  latest: queryProcedure
    .meta({ cacheTtlMs: 'rates', cacheTags: ['rates'] })
    .input(ratesInputSchema.default({ base: 'USD' }))
    .output(ratesSchema)
    .query(async ({ ctx }) => {
      try {
        return (await ctx.services.rates.latest()).rates;
      } catch (err) {
        if (!(err instanceof RatesUnavailableError)) throw err;
        ctx.res.setHeader('retry-after', String(retryAfterSeconds(err.retryAfterMs)));
        throw new TRPCError({
          code: 'SERVICE_UNAVAILABLE',
          message: 'Exchange rates are unavailable and no recent answer is stored; retry later.',
          cause: new ApiError({ reason: ERROR_REASONS.upstreamUnavailable, retryAfterMs: err.retryAfterMs }),
        });
      }
    }),
});
