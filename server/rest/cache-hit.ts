import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '../auth/authenticate.js';
import { CACHE_STATUS_HIT } from '../cache/cache-status.js';
import { notModified, setCacheHeaders } from '../cache/response-headers.js';
import { applyRateLimit } from '../http/apply-rate-limit.js';
import type { Services } from '../services.js';
import { dataBytesOfTrpcBody, sendRestResult } from './answer.js';
import type { Endpoint } from './endpoints.js';

/**
 * The cache fast path of /api (server/http/cache-fast-path.ts is /trpc's):
 * a hit of a cached GET is answered from the entry's bytes, before the tRPC
 * caller, with the rate limit and the headers the cache middleware would
 * give. The entry is the one /trpc calls of the same input fill and read.
 * A miss, an empty bucket or CACHE_FAST_PATH=false go on to the caller,
 * charging nothing here (a rejected take takes no token).
 */
export async function serveRestHit(
  req: IncomingMessage,
  res: ServerResponse,
  services: Services,
  endpoint: Endpoint,
  auth: AuthInfo,
  input: unknown,
): Promise<boolean> {
  const { cache } = services;
  if (!cache.fastPath) return false;
  const policy = cache.policies.get(endpoint.procedure);
  if (policy === undefined) return false;
  const key = cache.keyFor(policy, auth.tenantId, input);
  const entry = key === null ? undefined : cache.get(key);
  if (entry === undefined) return false;
  const body = dataBytesOfTrpcBody(entry.body);
  if (body === null) return false;
  const decision = await applyRateLimit(services.limiter, res, auth, policy.cost);
  if (!decision.allowed) {
    // The caller's own take answers the 429; these headers must not outlive this try.
    res.removeHeader('retry-after');
    res.removeHeader('cache-control');
    return false;
  }
  cache.counters.hits++;
  cache.counters.fastPathHits++;
  setCacheHeaders(res, entry, CACHE_STATUS_HIT, true, Date.now());
  // RFC 9110 §15.4.5: a 304 has no content, Content-Type or Content-Length.
  if (notModified(req, entry)) res.statusCode = 304;
  sendRestResult(res, endpoint.route.status ?? 200, body);
  return true;
}
