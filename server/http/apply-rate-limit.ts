import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '../auth/authenticate.js';
import type { RateLimitDecision, RateLimitStore } from '../stores/rate-limit-store.js';
import { rateLimitHeaders } from './rate-limit-headers.js';

/**
 * Takes `cost` tokens from the caller's bucket and writes the RateLimit
 * headers (and, on a rejection, Retry-After and `no-store`) onto `res`.
 * Shared by the tRPC middleware and the HTTP fast path, so both answer alike.
 */
export async function applyRateLimit(
  limiter: RateLimitStore,
  res: ServerResponse,
  auth: AuthInfo,
  cost: number,
): Promise<RateLimitDecision> {
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
