import type { ClientError } from '../internals/error-info.js';
import { retryAfterMsOf } from '../internals/error-info.js';
import { ComposureError, hasErrorName } from './composure-error.js';

/**
 * 429: this API key's rate limit is spent. The client has already waited and
 * retried (up to `retry.maxAttempts`) before this reaches you; `retryAfterMs`
 * says how long the server still asks you to wait.
 *
 * @example
 * ```ts
 * if (e instanceof RateLimitError) setTimeout(tryAgain, e.retryAfterMs ?? 1000);
 * ```
 */
export class RateLimitError extends ComposureError {
  override readonly name = 'RateLimitError';
  /** From `Retry-After` or `error.data.retryAfterMs`, whichever is later; undefined if neither came. */
  readonly retryAfterMs: number | undefined;

  constructor(from: ClientError) {
    super(from);
    this.retryAfterMs = retryAfterMsOf(from);
  }
}

/**
 * True for a 429 from the API, narrowed to {@link RateLimitError} with
 * `retryAfterMs`.
 *
 * @example
 * ```ts
 * try {
 *   await client.users.list.query({ limit: 50 });
 * } catch (e) {
 *   if (isRateLimitError(e)) console.log(`try again in ${e.retryAfterMs} ms`);
 * }
 * ```
 */
export function isRateLimitError(error: unknown): error is RateLimitError {
  return error instanceof RateLimitError || hasErrorName(error, 'RateLimitError');
}
