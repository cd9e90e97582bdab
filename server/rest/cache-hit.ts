import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '../auth/authenticate.js';
import { notModified } from '../cache/response-headers.js';
import { chargeCacheHit } from '../http/charge-cache-hit.js';
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
  if (!(await chargeCacheHit(services, res, auth, policy, entry))) return false;
  // RFC 9110 §15.4.5: a 304 has no content, Content-Type or Content-Length.
  if (notModified(req, entry)) res.statusCode = 304;
  sendRestResult(res, endpoint.route.status ?? 200, body);
  return true;
}
