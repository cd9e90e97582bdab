import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '../auth/authenticate.js';
import type { RateLimitDecision, RateLimitStore } from '../stores/rate-limit-store.js';
import { rateLimitHeader, rateLimitPolicyHeader, retryAfterSeconds } from './rate-limit-headers.js';
import type { BucketPlan } from '../stores/rate-limit-store.js';

// RATE_LIMIT_ENABLED=false (a gateway in front already limits): admit, and send no RateLimit headers.
const UNLIMITED: RateLimitDecision = { allowed: true, remaining: Infinity, retryAfterMs: 0, resetMs: 0, limit: Infinity };

// The policy text only changes with the plan; plans live as long as the
// authenticator's cached key lookup, so a WeakMap saves rebuilding it per request.
const policies = new WeakMap<BucketPlan, string>();
function policyHeader(plan: BucketPlan): string {
  let text = policies.get(plan);
  if (text === undefined) policies.set(plan, (text = rateLimitPolicyHeader(plan)));
  return text;
}

// Answers whose whole cost was taken up front (a batch, server/http/edge/batch-guard.ts).
const prepaid = new WeakMap<ServerResponse, RateLimitDecision>();

/** Records that `res`'s request has paid for all its calls: each call's take then admits without taking again. */
export function markPrepaid(res: ServerResponse, decision: RateLimitDecision): void {
  prepaid.set(res, decision);
}

/**
 * Takes `cost` tokens from the caller's bucket and writes the RateLimit
 * headers (and, on a rejection, Retry-After and `no-store`) onto `res`.
 * Shared by the tRPC middleware and the HTTP fast path, so both answer alike.
 */
export async function applyRateLimit(
  limiter: RateLimitStore | null,
  res: ServerResponse,
  auth: AuthInfo,
  cost: number,
): Promise<RateLimitDecision> {
  if (limiter === null) return UNLIMITED;
  const paid = prepaid.get(res);
  if (paid !== undefined) return paid;
  const pending = limiter.take(`key:${auth.apiKeyId}`, auth.plan, cost);
  // The memory store answers synchronously: awaiting only a real Promise
  // keeps a microtask off the hot path.
  const decision = pending instanceof Promise ? await pending : pending;
  res.setHeader('ratelimit-policy', policyHeader(auth.plan));
  res.setHeader('ratelimit', rateLimitHeader(auth.plan, decision));
  if (!decision.allowed) {
    res.setHeader('retry-after', String(retryAfterSeconds(decision.retryAfterMs)));
    res.setHeader('cache-control', 'no-store');
  }
  return decision;
}
