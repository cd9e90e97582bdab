import { isTRPCClientError } from '@trpc/client';
import { isAbortCause, isTransportFailure } from '../internals/error-info.js';

/**
 * True when a call was cancelled through its `signal` (or a timeout
 * signal), whether the request was in flight or waiting to be retried.
 *
 * @example
 * ```ts
 * const ac = new AbortController();
 * setTimeout(() => ac.abort(), 100);
 * try {
 *   await client.stats.summary.query({}, { signal: ac.signal });
 * } catch (e) {
 *   if (isAbortError(e)) console.log('cancelled');
 * }
 * ```
 */
export function isAbortError(error: unknown): boolean {
  return isTRPCClientError(error) && isAbortCause(error);
}

/**
 * True when no HTTP answer could be read: a refused or dropped connection,
 * DNS failure, or a body that was not JSON (an HTML page from a proxy). The
 * client has already retried queries and keyed mutations before this
 * reaches you.
 *
 * @example
 * ```ts
 * try {
 *   await client.users.list.query({});
 * } catch (e) {
 *   if (isNetworkError(e)) console.log('offline?', e.cause);
 * }
 * ```
 */
export function isNetworkError(error: unknown): boolean {
  return isTRPCClientError(error) && isTransportFailure(error);
}
