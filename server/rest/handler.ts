import type { IncomingMessage, ServerResponse } from 'node:http';
import { getTRPCErrorFromUnknown } from '@trpc/server/unstable-core-do-not-import';
import type { AuthInfo } from '../auth/authenticate.js';
import { createContext, type Context } from '../context.js';
import { isJsonRequest } from '../idempotency/trpc-request.js';
import { peekBody } from '../idempotency/request-body.js';
import { appRouter } from '../routers/app.js';
import type { Services } from '../services.js';
import { createCallerFactory } from '../trpc.js';
import { sendRestResult } from './answer.js';
import { locationOf, restEndpoints, type Endpoint } from './endpoints.js';
import { bodyInput, queryInput, type InputResult } from './input.js';
import { localProblem, sendErrorProblem, sendProblem } from './problem.js';
import { PROBLEM_TYPES } from './problem-types.js';
import { replayRest } from './replay.js';

const createCaller = createCallerFactory(appRouter);
type Call = (input: unknown) => Promise<unknown>;

function callerOf(ctx: Context, procedure: string): Call {
  // A caller per request, bound to its context, as the lean path does (server/http/lean-path.ts).
  let call: unknown = createCaller(ctx);
  for (const part of procedure.split('.')) call = (call as Record<string, unknown>)[part];
  return call as Call;
}

function route(method: string, path: string): { endpoint: Endpoint; values: string[] } | { allow: string[] } | null {
  const allow: string[] = [];
  for (const endpoint of restEndpoints()) {
    const match = endpoint.pattern.exec(path);
    if (!match) continue;
    if (endpoint.route.method === method) return { endpoint, values: match.slice(1) };
    allow.push(endpoint.route.method);
  }
  return allow.length > 0 ? { allow } : null;
}

async function readInput(ctx: Context, endpoint: Endpoint, values: string[], query: string): Promise<InputResult | 'gone'> {
  const { req, res, services } = ctx;
  if (endpoint.route.method === 'GET') return queryInput(endpoint, values, new URLSearchParams(query));
  const max = services.config.MAX_BODY_BYTES;
  const tooLarge = (): InputResult => {
    // Answered before the body was read: the connection cannot carry another request.
    res.setHeader('connection', 'close');
    return { ok: false, problem: localProblem(PROBLEM_TYPES.payloadTooLarge, `The body is larger than ${max} bytes.`) };
  };
  if (Number(req.headers['content-length'] ?? 0) > max) return tooLarge();
  if (!isJsonRequest(req)) {
    res.setHeader('connection', 'close');
    return { ok: false, problem: localProblem(PROBLEM_TYPES.unsupportedMediaType, 'Send the body as Content-Type: application/json.') };
  }
  const body = await peekBody(req, max);
  if (body.kind === 'failed') return 'gone';
  if (body.kind === 'too-large') return tooLarge();
  return bodyInput(body.text);
}

/**
 * One `/api/…` request: the route is looked up in the procedures' own
 * declarations (server/rest/endpoints.ts), then the procedure runs through
 * a tRPC caller with the request's context, so the whole middleware chain
 * runs as on /trpc (auth → rate limit → idempotency or cache → handler,
 * with the fallbacks inside), and its headers (RateLimit, ETag,
 * Cache-Status, Retry-After…) are the answer's. The body is the output
 * itself; an error is problem details (server/rest/problem.ts).
 */
export async function serveApi(req: IncomingMessage, res: ServerResponse, services: Services, path: string, query: string): Promise<void> {
  const method = req.method ?? '';
  const found = route(method, path);
  if (found === null) return sendProblem(res, localProblem(PROBLEM_TYPES.notFound, `No route ${method} ${path}.`));
  if ('allow' in found) {
    res.setHeader('allow', found.allow.join(', '));
    return sendProblem(res, localProblem(PROBLEM_TYPES.methodNotAllowed, `${path} answers ${found.allow.join(', ')}, not ${method}.`));
  }
  const { endpoint, values } = found;
  const ctx = createContext(req, res, services);
  const fail = (cause: unknown, input: unknown) =>
    sendErrorProblem(res, { error: getTRPCErrorFromUnknown(cause), path: endpoint.procedure, input, ctx, type: endpoint.type });

  // Auth first, as the chain orders it, and before reading a body: the gate
  // remembers this request, so the chain's auth costs nothing more.
  let auth: AuthInfo;
  try {
    auth = await services.authGate(req, res);
  } catch (cause) {
    if (endpoint.route.method === 'POST') res.setHeader('connection', 'close');
    return fail(cause, undefined);
  }
  const read = await readInput(ctx, endpoint, values, query);
  if (read === 'gone') return void res.destroy();
  if (!read.ok) return sendProblem(res, read.problem);
  const { input } = read;
  if (endpoint.type === 'mutation' && (await replayRest(ctx, auth, endpoint, input))) return;
  // A cache hit of a query was answered before admission (serveRestCacheHit, cache-hit.ts): this is a miss.

  let data: unknown;
  try {
    data = await callerOf(ctx, endpoint.procedure)(input);
  } catch (cause) {
    return fail(cause, input);
  }
  const location = locationOf(endpoint, data);
  if (location !== undefined) res.setHeader('location', location);
  sendRestResult(res, endpoint.route.status ?? 200, JSON.stringify(data));
}
