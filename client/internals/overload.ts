import { ERROR_REASONS } from '../../shared/error-codes.js';
import type { ClientError } from './error-info.js';
import { reasonOf, statusOf } from './error-info.js';

/**
 * True for the server's admission-control refusal: 503 with
 * `reason: "overloaded"`. Like a 429 it means "not now, and not only you":
 * the client waits as Retry-After says, pauses its other calls, and counts
 * it as a rejection for its adaptive throttle.
 *
 * @example
 * ```ts
 * if (isOverloadRefusal(error)) pauseEverything(retryAfterMsOf(error));
 * ```
 */
export function isOverloadRefusal(error: ClientError): boolean {
  return statusOf(error) === 503 && reasonOf(error) === ERROR_REASONS.overloaded;
}

/**
 * A Retry-After wait spread over `[afterMs, 2·afterMs)`: every client the
 * server shed at one moment was told the same whole second, and coming
 * back together would only be shed together again. Never earlier than the
 * server asked.
 *
 * @example
 * ```ts
 * spreadRetryAfter(1000, () => 0.25); // 1250
 * ```
 */
export function spreadRetryAfter(afterMs: number, random: () => number = Math.random): number {
  return afterMs + Math.floor(random() * afterMs);
}
