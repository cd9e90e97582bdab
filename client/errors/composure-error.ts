import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../server/routers/app.js';
import type { ClientError } from '../internals/error-info.js';
import { reasonOf, statusOf } from '../internals/error-info.js';

/**
 * The base of the client's typed errors: still a `TRPCClientError` (so
 * `isTRPCClientError`, `error.data` and `error.shape` work as in any tRPC
 * app) with the HTTP status and the server's reason lifted out. The
 * subclasses are made from the error httpLink raised, keeping its message,
 * cause, response meta and stack.
 *
 * @example
 * ```ts
 * try {
 *   await client.users.byId.query({ id: 1 });
 * } catch (e) {
 *   if (e instanceof ComposureError) console.log(e.status, e.reason);
 * }
 * ```
 */
export class ComposureError extends TRPCClientError<AppRouter> {
  override readonly name: string = 'ComposureError';
  /** The HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** `error.data.reason`, one of `ERROR_REASONS`, when the server gave one. */
  readonly reason: string | undefined;

  constructor(from: ClientError) {
    super(from.message, {
      result: from.shape ? { error: from.shape } : undefined,
      cause: from.cause,
      meta: from.meta,
    });
    // TRPCClientError's constructor pins its own prototype (a guard for
    // transpiled subclasses of Error); restore ours so instanceof works.
    Object.setPrototypeOf(this, new.target.prototype);
    if (from.stack !== undefined) this.stack = from.stack;
    this.status = statusOf(from);
    this.reason = reasonOf(from);
  }
}

/**
 * ky's pattern: instanceof, or the literal name when two copies of the package meet.
 *
 * @example
 * ```ts
 * hasErrorName(error, 'RateLimitError');
 * ```
 */
export function hasErrorName(value: unknown, name: string): boolean {
  return value instanceof TRPCClientError && value.name === name;
}
