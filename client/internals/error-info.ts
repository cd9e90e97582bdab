import type { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../server/routers/app.js';
import { HEADERS } from '../../shared/http-headers.js';
import { parseRetryAfter } from './retry-timing.js';

/** The error every call of a Composure client rejects with, typed by the router. */
export type ClientError = TRPCClientError<AppRouter>;

/** The part of a fetch `Response` the client reads after an error. */
export interface ResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
}

/**
 * The HTTP response behind an error, when there was one: tRPC v11's
 * httpLink keeps it in `error.meta.response` (and the parsed body in
 * `meta.responseJSON`), and the client's fetchLink does the same. A failure
 * before a readable answer (network, abort, a body that was not JSON) has none.
 *
 * @example
 * ```ts
 * responseOf(error)?.headers.get('retry-after'); // '1'
 * ```
 */
export function responseOf(error: ClientError): ResponseLike | undefined {
  const response: unknown = error.meta?.['response'];
  if (typeof response !== 'object' || response === null) return undefined;
  if (!('status' in response) || typeof response.status !== 'number') return undefined;
  if (!('headers' in response) || typeof response.headers !== 'object' || response.headers === null) return undefined;
  const { headers } = response;
  if (!('get' in headers) || typeof headers.get !== 'function') return undefined;
  return response as ResponseLike;
}

/**
 * The HTTP status of an error: the server's `error.data.httpStatus`, else the response's; undefined without a response.
 *
 * @example
 * ```ts
 * if (statusOf(error) === 429) slowDown();
 * ```
 */
export function statusOf(error: ClientError): number | undefined {
  const httpStatus: unknown = error.data?.httpStatus;
  if (typeof httpStatus === 'number') return httpStatus;
  return responseOf(error)?.status;
}

/**
 * `error.data.reason` (one of ERROR_REASONS) when the server gave one.
 *
 * @example
 * ```ts
 * reasonOf(error) === 'idempotency_in_flight'; // a 409 worth retrying
 * ```
 */
export function reasonOf(error: ClientError): string | undefined {
  const reason: unknown = error.data?.reason;
  return typeof reason === 'string' ? reason : undefined;
}

/**
 * How long the server asked us to wait, in ms: the later of the
 * `Retry-After` header and `error.data.retryAfterMs`. The header is whole
 * seconds rounded up, the body field is exact; taking the later of the two
 * never comes back before either says.
 *
 * @example
 * ```ts
 * // Retry-After: 1 and data.retryAfterMs: 250
 * retryAfterMsOf(error); // 1000
 * ```
 */
export function retryAfterMsOf(error: ClientError, now: number = Date.now()): number | undefined {
  const fromHeader = parseRetryAfter(responseOf(error)?.headers.get(HEADERS.retryAfter), now);
  const raw: unknown = error.data?.retryAfterMs;
  const fromBody = typeof raw === 'number' && Number.isFinite(raw) && raw >= 0 ? raw : undefined;
  if (fromHeader === undefined) return fromBody;
  if (fromBody === undefined) return fromHeader;
  return Math.max(fromHeader, fromBody);
}

/**
 * True when the call was aborted (an AbortSignal fired, or a timeout signal).
 *
 * @example
 * ```ts
 * if (isAbortCause(error)) return; // the caller gave up: do not retry
 * ```
 */
export function isAbortCause(error: ClientError): boolean {
  const cause: unknown = error.cause;
  if (typeof cause !== 'object' || cause === null || !('name' in cause)) return false;
  return cause.name === 'AbortError' || cause.name === 'TimeoutError';
}

/**
 * True for a failure that produced no HTTP response to read: a refused or dropped connection, a body that was not JSON.
 *
 * @example
 * ```ts
 * if (isTransportFailure(error)) scheduleRetry(); // no answer was read
 * ```
 */
export function isTransportFailure(error: ClientError): boolean {
  return statusOf(error) === undefined && !isAbortCause(error);
}
