import type { ServerResponse } from 'node:http';
import type { AnyTRPCProcedure } from '@trpc/server';
import { HEADERS } from '../../shared/http-headers.js';
import { fingerprint } from '../idempotency/fingerprint.js';
import { readIdempotencyKey } from '../idempotency/key-header.js';
import { handBackBody, peekBody } from '../idempotency/request-body.js';
import { isJsonRequest, trpcCallsOf } from '../idempotency/trpc-request.js';
import { asBatchBody } from '../idempotency/trpc-wire.js';
import type { Meta } from '../meta.js';
import { appRouter } from '../routers/app.js';
import { applyRateLimit } from './apply-rate-limit.js';
import type { FastPath } from './fast-paths.js';

// The adapter keeps its procedures in one flat record keyed by dotted path
// (its own getProcedureAtPath reads `_def.procedures[path]`); the type
// describes the nested router instead.
const procedures = appRouter._def.procedures as unknown as Readonly<Record<string, AnyTRPCProcedure | undefined>>;

function mutationMeta(path: string): Meta | null {
  const procedure = Object.hasOwn(procedures, path) ? procedures[path] : undefined;
  if (procedure?._def.type !== 'mutation') return null;
  return (procedure._def.meta ?? {}) as Meta;
}

/** `undefined` when the body is not what the adapter would parse into one call's input. */
function inputOf(text: string, isBatch: boolean): { input: unknown } | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isBatch) return { input: json };
  // A batch body is {"0": input, …}; a missing entry is an undefined input.
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  return { input: Object.hasOwn(json, '0') ? (json as Record<string, unknown>)['0'] : undefined };
}

/**
 * Replays a completed Idempotency-Key answer before the tRPC adapter (tRPC
 * cannot write stored bytes): the same status and body, plus
 * `Idempotent-Replayed: true`. Auth and the rate limit apply as on any
 * call. It answers only when sure: one keyed JSON POST to a mutation, a
 * completed key for that tenant and procedure, and the same input
 * fingerprint. Anything else goes to the adapter with the body, if read,
 * handed back, and nothing charged twice: unknown keys, 401s and the
 * blocked-address 429 never take a token here, and a rejected take takes
 * nothing, so the adapter's own take answers that 429.
 */
export const idempotentReplay: FastPath = async (req, res, services) => {
  if (req.method !== 'POST' || !isJsonRequest(req)) return false;
  const header = readIdempotencyKey(req.headersDistinct[HEADERS.idempotencyKey]);
  if (header.kind !== 'valid') return false;
  const calls = trpcCallsOf(req.url);
  const path = calls?.paths.length === 1 ? calls.paths[0] : undefined;
  if (calls === null || path === undefined) return false;
  const meta = mutationMeta(path);
  if (!meta) return false;

  let row: Awaited<ReturnType<typeof services.idempotency.find>>;
  try {
    const peeked = await services.authenticate(req);
    if (!peeked) return false;
    row = await services.idempotency.find({ tenantId: peeked.tenantId, procedure: path, key: header.key });
  } catch {
    // The database is unreachable: the adapter's middleware meets the same and answers it (503).
    return false;
  }
  if (row?.state !== 'done' || row.responseStatus === null || row.responseBody === null) return false;

  // The gate adds only the blocked-address check for a key that authenticates (and charges nothing for it).
  const auth = await services.authGate(req, res).catch(() => null);
  if (!auth) return false;

  const length = Number(req.headers['content-length'] ?? 0);
  if (length > services.config.MAX_BODY_BYTES) return false;
  const body = await peekBody(req, services.config.MAX_BODY_BYTES);
  if (body.kind === 'failed') {
    res.destroy();
    return true;
  }
  if (body.kind === 'too-large') return false;
  const parsed = inputOf(body.text, calls.isBatch);
  if (parsed === undefined || fingerprint(parsed.input) !== row.fingerprint) {
    handBackBody(req, body.text);
    return false;
  }

  const decision = await applyRateLimit(services.limiter, res, auth, meta.cost ?? 1);
  if (!decision.allowed) {
    // The middleware takes again and answers; should its take succeed (a
    // token refilled meanwhile), this rejection's headers must not linger.
    res.removeHeader(HEADERS.retryAfter);
    res.removeHeader(HEADERS.cacheControl);
    handBackBody(req, body.text);
    return false;
  }
  services.metrics.idempotentReplays.inc();
  sendReplay(res, row.responseStatus, calls.isBatch ? asBatchBody(row.responseBody) : row.responseBody);
  return true;
};

function sendReplay(res: ServerResponse, status: number, body: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'application/json');
  // What the adapter sends with every answer, and with every error (server/http/server.ts responseMeta).
  res.setHeader('vary', 'trpc-accept, accept');
  if (status >= 400) res.setHeader('cache-control', 'no-store');
  res.setHeader(HEADERS.idempotentReplayed, 'true');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}
