import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { LRUCache } from 'lru-cache';
import { ERROR_REASONS } from '../../shared/errors.js';
import { ApiError } from '../errors.js';
import type { BucketPlan, RateLimitDecision, RateLimitStore } from '../stores/rate-limit-store.js';
import type { AuthInfo, Authenticator } from './authenticate.js';
import { retryAfterSeconds } from '../http/rate-limit-headers.js';

export interface AuthGateOptions {
  authenticate: Authenticator;
  limiter: RateLimitStore;
  /** Failures allowed per client address (an IPv6 address counts by its /64). */
  failurePlan: BucketPlan;
  /** Failures allowed from all addresses together. */
  globalFailurePlan: BucketPlan;
  /** The key a request's failures count under: its client address, grouped. */
  addressOf(req: IncomingMessage): string;
}

const GLOBAL = '*';

/**
 * Authenticates a request, then limits failed attempts: per client address,
 * and over all addresses together (so many addresses cannot guess at full
 * speed either). The key is looked at first and only failures are counted,
 * so a valid key is never refused, whatever others sent from its address
 * (behind a proxy or a NAT, that is everyone). Shared by the tRPC
 * middleware and the HTTP fast paths so both answer alike.
 */
export function createAuthGate(opts: AuthGateOptions) {
  // Bounded: an attacker cycling source addresses cannot grow it without limit.
  // While a budget is spent, its failures are refused without asking the store again.
  const blockedUntil = new LRUCache<string, number>({ max: 100_000 });

  const tooMany = (res: ServerResponse, retryAfterMs: number, scope: string) => {
    res.setHeader('retry-after', String(retryAfterSeconds(retryAfterMs)));
    res.setHeader('cache-control', 'no-store');
    return new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `Too many failed authentication attempts${scope === GLOBAL ? '' : ' from this address'}; retry later.`,
      cause: new ApiError({ reason: ERROR_REASONS.rateLimited, retryAfterMs }),
    });
  };

  /** Takes one failure from `scope`'s budget; the wait in ms when it is spent, else 0. */
  const spend = async (scope: string, plan: BucketPlan, now: number): Promise<number> => {
    const until = blockedUntil.get(scope);
    if (until !== undefined && until > now) return until - now;
    const pending = opts.limiter.take(`authfail:${scope}`, plan, 1);
    const decision: RateLimitDecision = pending instanceof Promise ? await pending : pending;
    if (decision.allowed) return 0;
    blockedUntil.set(scope, now + decision.retryAfterMs);
    return decision.retryAfterMs;
  };

  // A request may meet the gate twice (a fast path that falls through to the
  // middleware, each call of a batch): the second time costs a map lookup, not another hash.
  const passed = new WeakMap<IncomingMessage, AuthInfo>();
  // A failure is counted once per request, however many calls it holds.
  const refused = new WeakMap<IncomingMessage, TRPCError>();

  return async (req: IncomingMessage, res: ServerResponse): Promise<AuthInfo> => {
    const known = passed.get(req);
    if (known) return known;
    const earlier = refused.get(req);
    if (earlier) throw earlier;
    const looked = opts.authenticate(req);
    const info = looked instanceof Promise ? await looked : looked;
    if (info) {
      passed.set(req, info);
      return info;
    }
    const now = Date.now();
    const address = opts.addressOf(req);
    let error: TRPCError;
    let scope = address;
    let waitMs = await spend(address, opts.failurePlan, now);
    if (waitMs === 0) {
      scope = GLOBAL;
      waitMs = await spend(GLOBAL, opts.globalFailurePlan, now);
    }
    if (waitMs > 0) {
      error = tooMany(res, waitMs, scope);
    } else {
      res.setHeader('www-authenticate', 'Bearer realm="composure"');
      error = new TRPCError({
        code: 'UNAUTHORIZED',
        message: req.headers.authorization ? 'Unknown or revoked API key.' : 'Missing API key: send Authorization: Bearer <key>.',
      });
    }
    refused.set(req, error);
    throw error;
  };
}
export type AuthGate = ReturnType<typeof createAuthGate>;
