import { TRPCError } from '@trpc/server';
import type { Logger } from 'pino';
import { ERROR_REASONS } from '../../shared/errors.js';
import type { Context } from '../context.js';
import { ApiError } from '../errors.js';
import { NO_STORE } from '../cache/response-headers.js';
import { retryAfterSeconds } from './rate-limit-headers.js';

/** What the adapter's `responseMeta` may return that we use (tRPC's ResponseMeta). */
export interface AnswerMeta {
  status?: number;
  headers?: Headers;
}

const NONE: AnswerMeta = {};

/**
 * The adapter's `responseMeta`. No error may be stored by any cache
 * (RFC 9111 §5.2.2.5): set here, where tRPC knows the answer failed, it
 * covers errors thrown before any middleware.
 */
export function responseMeta({ errors }: { errors: readonly unknown[] }): AnswerMeta {
  if (errors.length === 0) return NONE;
  const headers = new Headers([['cache-control', NO_STORE]]);
  // A database outage is raised deep in a repository, far from `res`: its
  // Retry-After (RFC 9110 §10.2.3) is added here, where every answer passes.
  const outage = errors.find(isDatabaseOutage);
  if (outage) headers.set('retry-after', String(retryAfterSeconds(outage.cause.retryAfterMs ?? 1000)));
  return { headers };
}

function isDatabaseOutage(error: unknown): error is TRPCError & { cause: ApiError } {
  return error instanceof TRPCError && error.cause instanceof ApiError && error.cause.reason === ERROR_REASONS.databaseUnavailable;
}

export interface ErrorReport {
  error: TRPCError;
  path: string | undefined;
  ctx: Context | undefined;
}

/** The adapter's `onError`: only unexpected errors are logged (with the cause, never sent). */
export function reportError(log: Logger, { error, path, ctx }: ErrorReport): void {
  if (error.code === 'INTERNAL_SERVER_ERROR') {
    (ctx?.log ?? log).error({ err: error.cause ?? error, path }, 'unexpected error');
  }
}
