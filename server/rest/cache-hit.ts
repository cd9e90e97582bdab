import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthInfo } from '../auth/authenticate.js';
import { notModified } from '../cache/response-headers.js';
import { chargeCacheHit } from '../http/charge-cache-hit.js';
import type { Services } from '../services.js';
import { dataBytesOfTrpcBody, sendRestResult } from './answer.js';
import { restEndpoints, type Endpoint } from './endpoints.js';
import { queryInput } from './input.js';

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

/** The GET query endpoint `path` routes to, with its path values; undefined for any other. */
function cachedQueryOf(path: string, services: Services): { endpoint: Endpoint; values: string[] } | undefined {
  for (const endpoint of restEndpoints()) {
    if (endpoint.route.method !== 'GET' || endpoint.type !== 'query') continue;
    const match = endpoint.pattern.exec(path);
    if (match) return services.cache.policies.has(endpoint.procedure) ? { endpoint, values: match.slice(1) } : undefined;
  }
  return undefined;
}

/**
 * Tried before admission control for `/api/…`, as server/http/fast-paths.ts'
 * cheap paths are for /trpc: a cache hit of a GET (or its 304) costs a route
 * match, an authentication the gate remembers and a map lookup, never the
 * database, so it is never shed and never waits behind expensive requests.
 * Anything else (a miss, a failed authentication, a bad input, an empty
 * bucket) returns false untouched and goes through admission to the REST
 * handler, which answers it: the gate counts a failure once per request.
 */
export async function serveRestCacheHit(req: IncomingMessage, res: ServerResponse, services: Services): Promise<boolean> {
  if (req.method !== 'GET' || !services.cache.fastPath) return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const found = cachedQueryOf(q === -1 ? url : url.slice(0, q), services);
  if (found === undefined) return false;
  let auth: AuthInfo;
  try {
    auth = await services.authGate(req, res);
  } catch {
    return false;
  }
  const read = queryInput(found.endpoint, found.values, new URLSearchParams(q === -1 ? '' : url.slice(q + 1)));
  return read.ok && serveRestHit(req, res, services, found.endpoint, auth, read.input);
}
