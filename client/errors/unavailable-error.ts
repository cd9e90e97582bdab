import type { ClientError } from '../internals/error-info.js';
import { retryAfterMsOf } from '../internals/error-info.js';
import { ComposureError, hasErrorName } from './composure-error.js';

/**
 * 503: the server, or a provider behind it (`reason: 'upstream_unavailable'`
 * for exchange rates), cannot answer now. The client has already retried up
 * to `retry.maxAttempts`.
 *
 * @example
 * ```ts
 * if (e instanceof UnavailableError) showBanner(`Rates are down; retry in ${e.retryAfterMs ?? 'a few'} ms`);
 * ```
 */
export class UnavailableError extends ComposureError {
  override readonly name = 'UnavailableError';
  readonly retryAfterMs: number | undefined;

  constructor(from: ClientError) {
    super(from);
    this.retryAfterMs = retryAfterMsOf(from);
  }
}

/**
 * True for a 503 from the API, narrowed to {@link UnavailableError}.
 *
 * @example
 * ```ts
 * try {
 *   await client.rates.latest.query({ base: 'USD' });
 * } catch (e) {
 *   if (isUnavailableError(e)) console.log('rates are unavailable', e.retryAfterMs);
 * }
 * ```
 */
export function isUnavailableError(error: unknown): error is UnavailableError {
  return error instanceof UnavailableError || hasErrorName(error, 'UnavailableError');
}
