import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { LRUCache } from 'lru-cache';
import { ERROR_REASONS } from '../../shared/errors.js';
import { ApiError } from '../errors.js';
import type { BucketPlan, RateLimitDecision, RateLimitStore } from '../stores/rate-limit-store.js';
import type { AuthInfo, Authenticator } from './authenticate.js';
import { clientIp } from '../context.js';
import { retryAfterSeconds } from '../http/rate-limit-headers.js';

export interface AuthGateOptions {
  authenticate: Authenticator;
  limiter: RateLimitStore;
  failurePlan: BucketPlan;
}

/**
 * Authenticates a request, limiting failed attempts per client IP: once an
 * IP's failure bucket is empty, its requests get 429 without the key even
 * being looked up, so keys cannot be guessed at full speed. Shared by the
 * tRPC middleware and the HTTP fast path so both answer alike.
 */
export function createAuthGate(opts: AuthGateOptions) {
  // Bounded: an attacker cycling source addresses cannot grow it without limit.
  const blockedUntil = new LRUCache<string, number>({ max: 100_000 });

  const tooMany = (res: ServerResponse, retryAfterMs: number) => {
    res.setHeader('retry-after', String(retryAfterSeconds(retryAfterMs)));
    res.setHeader('cache-control', 'no-store');
    return new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: 'Too many failed authentication attempts from this address; retry later.',
      cause: new ApiError({ reason: ERROR_REASONS.rateLimited, retryAfterMs }),
    });
  };

  // A request may meet the gate twice (a fast path that falls through to the
  // middleware): the second time costs a map lookup, not another hash.
  const passed = new WeakMap<IncomingMessage, AuthInfo>();

  return async (req: IncomingMessage, res: ServerResponse): Promise<AuthInfo> => {
    const known = passed.get(req);
    if (known) return known;
    const ip = clientIp(req);
    const until = blockedUntil.get(ip);
    const now = Date.now();
    if (until !== undefined && until > now) throw tooMany(res, until - now);
    const looked = opts.authenticate(req);
    const info = looked instanceof Promise ? await looked : looked;
    if (info) {
      passed.set(req, info);
      return info;
    }
    const pending = opts.limiter.take(`authfail:${ip}`, opts.failurePlan, 1);
    const decision: RateLimitDecision = pending instanceof Promise ? await pending : pending;
    if (!decision.allowed) {
      blockedUntil.set(ip, now + decision.retryAfterMs);
      throw tooMany(res, decision.retryAfterMs);
    }
    res.setHeader('www-authenticate', 'Bearer realm="composure"');
    throw new TRPCError({
      code: 'UNAUTHORIZED',
      message: req.headers.authorization
        ? 'Unknown or revoked API key.'
        : 'Missing API key: send Authorization: Bearer <key>.',
    });
  };
}
export type AuthGate = ReturnType<typeof createAuthGate>;
