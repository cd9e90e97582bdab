import { HEADERS } from '../../shared/http-headers.js';
import type { AuthInfo } from '../auth/authenticate.js';
import type { Context } from '../context.js';
import { applyRateLimit } from '../http/apply-rate-limit.js';
import { fingerprint } from '../idempotency/fingerprint.js';
import { readIdempotencyKey } from '../idempotency/key-header.js';
import { dataOfTrpcBody, sendRestResult } from './answer.js';
import { locationOf, type Endpoint } from './endpoints.js';
import { problemOf, sendProblem, type ErrorShape } from './problem.js';

/**
 * Replays a completed Idempotency-Key on a REST route. The key's answer is
 * stored once per (tenant, procedure, key), as the tRPC adapter's bytes
 * (server/idempotency/trpc-wire.ts), whichever route made it: here it is
 * re-encoded for REST (the output itself, or its problem details), so a key
 * used on /api and then on /trpc, or the other way round, is one request
 * with one effect. Like the /trpc replay (server/http/idempotent-replay.ts)
 * it answers only when sure, after auth (which the caller has passed) and the rate limit; anything else
 * (another input: 422; still running: 409) is the middleware's.
 */
export async function replayRest(ctx: Context, auth: AuthInfo, endpoint: Endpoint, input: unknown): Promise<boolean> {
  const { req, res, services } = ctx;
  const header = readIdempotencyKey(req.headersDistinct[HEADERS.idempotencyKey]);
  if (header.kind !== 'valid') return false;
  const row = await services.idempotency.find({ tenantId: auth.tenantId, procedure: endpoint.procedure, key: header.key });
  if (row?.state !== 'done' || row.responseStatus === null || row.responseBody === null) return false;
  if (fingerprint(input) !== row.fingerprint) return false;

  const decision = await applyRateLimit(services.limiter, res, auth, endpoint.meta.cost ?? 1);
  if (!decision.allowed) {
    // The middleware takes again and answers the 429 (a rejected take takes nothing).
    res.removeHeader(HEADERS.retryAfter);
    res.removeHeader(HEADERS.cacheControl);
    return false;
  }
  services.metrics.idempotentReplays.inc();
  res.setHeader(HEADERS.idempotentReplayed, 'true');
  if (row.responseStatus < 400) {
    const json = dataOfTrpcBody(row.responseBody);
    const location = endpoint.location === undefined ? undefined : locationOf(endpoint, JSON.parse(json));
    if (location !== undefined) res.setHeader('location', location);
    sendRestResult(res, endpoint.route.status ?? 200, json);
  } else {
    sendProblem(res, problemOf((JSON.parse(row.responseBody) as { error: ErrorShape }).error));
  }
  return true;
}
