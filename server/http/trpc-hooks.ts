import type { TRPCError } from '@trpc/server';
import type { Logger } from 'pino';
import type { Context } from '../context.js';
import { NO_STORE } from '../cache/response-headers.js';

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
  return errors.length > 0 ? { headers: new Headers([['cache-control', NO_STORE]]) } : NONE;
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
