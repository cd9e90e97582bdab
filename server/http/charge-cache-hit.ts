import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '../auth/authenticate.js';
import type { CacheEntry, CachePolicy } from '../cache/index.js';
import { CACHE_STATUS_HIT } from '../cache/cache-status.js';
import { setCacheHeaders } from '../cache/response-headers.js';
import type { Services } from '../services.js';
import { applyRateLimit } from './apply-rate-limit.js';

/**
 * The part of answering a cache hit that every route shares (the tRPC fast path and REST's): take the call's
 * tokens, count the hit and set its cache headers. False when the bucket is empty: a rejected decision takes no
 * token, so the route's own full path (the same 429, or an admission if a token arrived meanwhile) charges the
 * caller exactly once; its headers replace these, so the two it might not set are dropped.
 */
export async function chargeCacheHit(services: Services, res: ServerResponse, auth: AuthInfo, policy: CachePolicy, entry: CacheEntry): Promise<boolean> {
  const decision = await applyRateLimit(services.limiter, res, auth, policy.cost);
  if (!decision.allowed) {
    res.removeHeader('retry-after');
    res.removeHeader('cache-control');
    return false;
  }
  services.cache.counters.hits++;
  services.cache.counters.fastPathHits++;
  setCacheHeaders(res, entry, CACHE_STATUS_HIT, true, Date.now());
  return true;
}
