import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '../auth/authenticate.js';
import type { RateLimitDecision, RateLimitStore } from '../stores/rate-limit-store.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

// RATE_LIMIT_ENABLED=false (a gateway in front already limits): admit, and send no RateLimit headers.
const UNLIMITED: RateLimitDecision = { allowed: true, remaining: Infinity, retryAfterMs: 0, resetMs: 0, limit: Infinity };

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
  const pending = limiter.take(`key:${auth.apiKeyId}`, auth.plan, cost);
  // The memory store answers synchronously: awaiting only a real Promise
  // keeps a microtask off the hot path.
  const decision = pending instanceof Promise ? await pending : pending;
  const headers = rateLimitHeaders(auth.plan, decision);
  res.setHeader('ratelimit-policy', headers['RateLimit-Policy']);
  res.setHeader('ratelimit', headers.RateLimit);
  if (headers['Retry-After'] !== undefined) {
    res.setHeader('retry-after', headers['Retry-After']);
    res.setHeader('cache-control', 'no-store');
  }
  return decision;
}
