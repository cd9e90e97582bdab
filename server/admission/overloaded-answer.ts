import type { IncomingMessage, ServerResponse } from 'node:http';
import { TRPCError } from '@trpc/server';
import { getErrorShape } from '@trpc/server/unstable-core-do-not-import';
import { ERROR_REASONS } from '../../shared/error-codes.js';
import { ApiError } from '../errors.js';
import { NO_STORE } from '../cache/response-headers.js';
import { appRouter } from '../routers/app.js';
import { PROBLEM_CONTENT_TYPE, problemOf } from '../rest/problem.js';

const TRPC_PREFIX = '/trpc/';
// Only the router's own paths are kept: invented ones must not grow the memo.
const PROCEDURES: ReadonlySet<string> = new Set(Object.keys(appRouter._def.procedures));

/**
 * Writes the overload refusal: 503 with Retry-After (RFC 9110 §10.2.3:
 * delay-seconds) and no-store (RFC 9111 §5.2.2.5: a refusal must not be
 * replayed from a cache), in the tRPC error shape every /trpc error has
 * (the router's own error formatter, so `error.data.reason` is
 * "overloaded" and `retryAfterMs` is the wait). Bodies are built once per
 * procedure path and reused: a refusal costs a few microseconds, which is
 * what makes shedding cheaper than serving. /api gets the same error as
 * problem details (RFC 9457), through the REST layer's own mapping
 * (type temporary-reduced-capacity).
 */
export function createOverloadedAnswer(retryAfterS: number) {
  const retryAfterMs = retryAfterS * 1000;
  const retryAfter = String(retryAfterS);
  const message = `The server is at capacity; retry after ${retryAfterS} s.`;
  const bodies = new Map<string, Buffer>();

  const shapeOf = (path: string) => {
    const error = new TRPCError({ code: 'SERVICE_UNAVAILABLE', message, cause: new ApiError({ reason: ERROR_REASONS.overloaded, retryAfterMs }) });
    return getErrorShape({ config: appRouter._def._config, error, type: 'unknown', path, input: undefined, ctx: undefined });
  };

  const trpcBody = (url: string): Buffer => {
    const q = url.indexOf('?', TRPC_PREFIX.length);
    const path = decodeURIComponent(q === -1 ? url.slice(TRPC_PREFIX.length) : url.slice(TRPC_PREFIX.length, q));
    // A batch (`?batch=1`) is answered with one error per call, as the adapter does.
    const batch = q !== -1 && /[?&]batch=1(?:&|$)/.test(url.slice(q));
    if (batch) return Buffer.from(JSON.stringify(path.split(',').map((p) => ({ error: shapeOf(p) }))));
    let body = bodies.get(path);
    if (body === undefined) {
      body = Buffer.from(JSON.stringify({ error: shapeOf(path) }));
      if (PROCEDURES.has(path)) bodies.set(path, body);
    }
    return body;
  };

  const problemBody = Buffer.from(JSON.stringify(problemOf(shapeOf(''))));

  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const trpc = url.startsWith(TRPC_PREFIX);
    let body: Buffer;
    try {
      body = trpc ? trpcBody(url) : problemBody;
    } catch {
      // A path that does not decode: the shape without it.
      body = trpcBody(TRPC_PREFIX);
    }
    res.statusCode = 503;
    res.setHeader('content-type', trpc ? 'application/json' : PROBLEM_CONTENT_TYPE);
    res.setHeader('retry-after', retryAfter);
    res.setHeader('cache-control', NO_STORE);
    res.setHeader('content-length', body.length);
    res.end(body);
  };
}
