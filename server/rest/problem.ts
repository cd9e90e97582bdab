import type { ServerResponse } from 'node:http';
import type { TRPCError } from '@trpc/server';
import { getErrorShape } from '@trpc/server/unstable-core-do-not-import';
import { HEADERS } from '../../shared/http-headers.js';
import type { ErrorData } from '../../shared/errors.js';
import type { Context } from '../context.js';
import { ApiError } from '../errors.js';
import { NO_STORE } from '../cache/response-headers.js';
import { reportError } from '../http/trpc-hooks.js';
import { rootConfig } from '../trpc.js';
import type { Problem } from './problem-schema.js';
import { problemTypeOf, type ProblemType } from './problem-types.js';

export type { Problem } from './problem-schema.js';

/** RFC 9457 §3. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** The shape tRPC sends as `error` (our errorFormatter's), which a stored idempotent answer also holds. */
export interface ErrorShape {
  message: string;
  data: ErrorData;
}

export function problemOf(shape: ErrorShape, kind?: string, policy?: string): Problem {
  const { data } = shape;
  const type: ProblemType = problemTypeOf({ status: data.httpStatus, kind, reason: data.reason, hasIssues: data.zodIssues !== undefined });
  const problem: Problem = { type: type.type, title: type.title, status: data.httpStatus, detail: shape.message, code: data.code };
  if (data.retryAfterMs !== undefined) problem.retryAfterMs = data.retryAfterMs;
  if (data.zodIssues !== undefined) problem.issues = data.zodIssues;
  if (type.status === 429 && policy !== undefined) problem['violated-policies'] = [policy];
  return problem;
}

/** A problem the REST layer raises itself (a route that does not exist, a body that is not JSON). */
export function localProblem(type: ProblemType, detail: string): Problem {
  return { type: type.type, title: type.title, status: type.status, detail };
}

export function sendProblem(res: ServerResponse, problem: Problem): void {
  const body = JSON.stringify(problem);
  res.statusCode = problem.status;
  res.setHeader('content-type', PROBLEM_CONTENT_TYPE);
  // No error may be stored by any cache (RFC 9111 §5.2.2.5), as on /trpc.
  res.setHeader(HEADERS.cacheControl, NO_STORE);
  res.removeHeader('etag');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/** The name in `RateLimit-Policy: "default";q=100;w=5` (an sf-string, RFC 9651 §3.3.3), if the answer carries one. */
function policyName(res: ServerResponse): string | undefined {
  const header = res.getHeader(HEADERS.rateLimitPolicy);
  const match = typeof header === 'string' ? /^"((?:[^"\\]|\\.)*)"/.exec(header) : null;
  return match?.[1]?.replace(/\\(.)/g, '$1');
}

/**
 * A procedure's error as problem details: logged as the adapter's onError
 * logs it, formatted by the router's errorFormatter (so the message a
 * production server hides stays hidden), then mapped to its type.
 */
export function sendErrorProblem(res: ServerResponse, call: { error: TRPCError; path: string; input: unknown; ctx: Context; type: 'query' | 'mutation' }): void {
  const { error, path, input, ctx, type } = call;
  reportError(ctx.services.log, { error, path, ctx });
  const shape = getErrorShape({ config: rootConfig, error, type, path, input, ctx }) as ErrorShape;
  const kind = error.cause instanceof ApiError ? error.cause.kind : undefined;
  sendProblem(res, problemOf(shape, kind, policyName(res)));
}
