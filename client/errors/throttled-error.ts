import type { ClientError } from '../internals/error-info.js';
import { ComposureError, hasErrorName } from './composure-error.js';

/**
 * The client refused the call itself, without sending it: the server has
 * been refusing most of this client's recent requests as overloaded (or
 * not answering them), and the adaptive throttle (`createClient({ throttle })`)
 * sheds locally so that retries do not add to the overload. Not retried;
 * try again later, or shed the work.
 *
 * @example
 * ```ts
 * if (e instanceof ThrottledError) console.log(`shed locally (p=${e.rejectProbability.toFixed(2)})`);
 * ```
 */
export class ThrottledError extends ComposureError {
  override readonly name = 'ThrottledError';
  /** The probability with which calls were being refused when this one was. */
  readonly rejectProbability: number;

  constructor(from: ClientError, rejectProbability: number) {
    super(from);
    this.rejectProbability = rejectProbability;
  }
}

/**
 * True for a call the client refused locally, narrowed to {@link ThrottledError}.
 *
 * @example
 * ```ts
 * try {
 *   await client.users.list.query({ limit: 50 });
 * } catch (e) {
 *   if (isThrottledError(e)) showBanner('The service is overloaded; try again in a minute.');
 * }
 * ```
 */
export function isThrottledError(error: unknown): error is ThrottledError {
  return error instanceof ThrottledError || hasErrorName(error, 'ThrottledError');
}
