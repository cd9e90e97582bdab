import type { IncomingMessage } from 'node:http';
import { TRPCError } from '@trpc/server';
import { middlewareMarker, type MiddlewareResult } from '@trpc/server/unstable-core-do-not-import';
import { middleware } from '../trpc.js';
import type { AuthInfo } from '../auth/authenticate.js';
import { ApiError } from '../errors.js';
import type { CacheEntry, CacheHints, LoadOutcome } from '../cache/index.js';
import {
  CACHE_STATUS_BYPASS,
  CACHE_STATUS_COLLAPSED,
  CACHE_STATUS_HIT,
  CACHE_STATUS_MISS,
  CACHE_STATUS_STORED,
  staleCacheStatus,
} from '../cache/cache-status.js';
import { NO_STORE, makeNotModified, notModified, setCacheHeaders } from '../cache/response-headers.js';
import { retryAfterSeconds } from '../http/rate-limit-headers.js';

/*
 * Serving a hit without calling next() means returning a middleware result
 * ourselves. tRPC has no public way to do that (trpc/trpc#4066); its
 * procedure caller reads only `ok` and `data` of what the chain returns
 * (procedureBuilder.ts, 11.22), and `middlewareMarker` is the value its own
 * resolver returns. The import is from the `unstable-core-do-not-import`
 * entry on purpose: the version is pinned, and the HTTP fast path answers
 * nearly every hit before this runs, so this is the rarer road.
 */
function served<T>(data: unknown): MiddlewareResult<T> {
  return { ok: true, data, marker: middlewareMarker };
}

// tRPC's own test for a batch (contentType.ts): `?batch=1` read as a search parameter.
function isSingleGet(req: IncomingMessage): boolean {
  if (req.method !== 'GET') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 || new URLSearchParams(url.slice(q + 1)).get('batch') !== '1';
}

function cacheStatusOf(outcome: LoadOutcome, now: number): string {
  switch (outcome.kind) {
    case 'stored':
      return CACHE_STATUS_STORED;
    case 'not-stored':
      return CACHE_STATUS_MISS;
    case 'collapsed':
      return CACHE_STATUS_COLLAPSED;
    case 'stale': {
      const { storedAt, policy } = outcome.entry;
      // Remaining freshness rounded down: any stale answer shows a negative ttl, even a few ms past its lifetime.
      return staleCacheStatus(Math.floor((policy.ttlMs - (now - storedAt)) / 1000));
    }
  }
}

/**
 * Queries only, after auth and rate limit: answers from the query cache, or
 * computes once per key (concurrent misses wait for the first) and stores
 * the answer. A single GET gets ETag, Cache-Control, Cache-Status (and Age)
 * and a 304 for a matching If-None-Match; a batch gets `no-store`, since one
 * response carries several answers. Errors are never stored.
 */
export const cache = middleware(async ({ ctx, path, type, getRawInput, next }) => {
  const { services, req, res } = ctx;
  const policy = type === 'query' ? services.cache.policies.get(path) : undefined;
  const single = isSingleGet(req);
  if (policy === undefined) {
    if (type === 'query') {
      res.setHeader('cache-control', NO_STORE);
      if (single) res.setHeader('cache-status', CACHE_STATUS_BYPASS);
    }
    return next({ ctx: { cacheHints: undefined as CacheHints | undefined } });
  }
  const { auth } = ctx as typeof ctx & { auth: AuthInfo };
  const qc = services.cache;
  const key = qc.keyFor(policy, auth.tenantId, await getRawInput());
  // An input too deep to key is left to validation, uncached.
  if (key === null) return next({ ctx: { cacheHints: undefined as CacheHints | undefined } });

  const respond = (entry: CacheEntry, cacheStatus: string, hit: boolean, now: number) => {
    if (!single) return void res.setHeader('cache-control', NO_STORE);
    setCacheHeaders(res, entry, cacheStatus, hit, now);
    if (notModified(req, entry)) makeNotModified(res);
    // The adapter sends exactly these bytes; a length spares chunked framing and matches the fast path.
    else res.setHeader('content-length', entry.body.length);
  };

  const entry = qc.get(key);
  if (entry !== undefined) {
    qc.counters.hits++;
    respond(entry, CACHE_STATUS_HIT, true, Date.now());
    return served<{ cacheHints: CacheHints | undefined }>((JSON.parse(entry.body.toString()) as { result: { data?: unknown } }).result.data);
  }

  let outcome: LoadOutcome;
  try {
    outcome = await qc.load(key, policy, auth.tenantId, async (hints) => {
      const result = await next({ ctx: { cacheHints: hints as CacheHints | undefined } });
      if (!result.ok) throw result.error;
      return result.data;
    });
  } catch (err) {
    // A request that waited for another's failed computation shares its
    // error, but the headers that computation set went on the other response.
    const retryAfterMs = err instanceof TRPCError && err.cause instanceof ApiError ? err.cause.retryAfterMs : undefined;
    if (retryAfterMs !== undefined && !res.hasHeader('retry-after')) res.setHeader('retry-after', String(retryAfterSeconds(retryAfterMs)));
    throw err;
  }
  if (outcome.kind === 'stale') qc.counters.stale++;
  const now = Date.now();
  respond(outcome.entry, cacheStatusOf(outcome, now), outcome.kind === 'stale', now);
  return served<{ cacheHints: CacheHints | undefined }>(outcome.data);
});
