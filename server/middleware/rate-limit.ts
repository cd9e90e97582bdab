import { TRPCError } from '@trpc/server';
import { ERROR_REASONS } from '../../shared/errors.js';
import { ApiError } from '../errors.js';
import { middleware } from '../trpc.js';
import type { AuthInfo } from '../auth/authenticate.js';
import { applyRateLimit } from '../http/apply-rate-limit.js';
import type { RateLimitDecision } from '../stores/rate-limit-store.js';

/** The 429 of an empty API-key bucket; a whole batch refused up front gets the same. */
export function rateLimitedError(decision: RateLimitDecision): TRPCError {
  return new TRPCError({
    code: 'TOO_MANY_REQUESTS',
    message: `Rate limit exceeded for this API key; retry in ${Math.ceil(decision.retryAfterMs / 1000)} s.`,
    cause: new ApiError({ reason: ERROR_REASONS.rateLimited, retryAfterMs: decision.retryAfterMs }),
  });
}

/**
 * Takes the procedure's cost (meta `cost`, default 1) from the caller's
 * bucket. An empty bucket rejects at once: 429 with Retry-After; the
 * RateLimit headers go on every answer.
 */
export const rateLimit = middleware(async ({ ctx, meta, next }) => {
  const { auth } = ctx as typeof ctx & { auth: AuthInfo };
  const decision = await applyRateLimit(ctx.services.limiter, ctx.res, auth, meta?.cost ?? 1);
  if (!decision.allowed) throw rateLimitedError(decision);
  return next();
});
