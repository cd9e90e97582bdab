import { parseHttpDate } from './http-date.js';

/**
 * Reads a Retry-After field value as a delay in milliseconds from `now`.
 * The value is either delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a
 * date in the past means "now" (0). Anything else is ignored (undefined), as
 * the RFC leaves an unparsable value without meaning.
 *
 * @example
 * ```ts
 * parseRetryAfter('2', Date.now()); // 2000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:58 GMT')); // 2000
 * parseRetryAfter('soon', Date.now()); // undefined
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  // delay-seconds = 1*DIGIT (RFC 9110 §10.2.3): no sign, no fraction.
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // HTTP-date (RFC 9110 §5.6.7): IMF-fixdate, or the obsolete RFC 850 and asctime forms, all GMT.
  const at = parseHttpDate(text, now);
  if (at === undefined) return undefined;
  return Math.max(0, at - now);
}

/**
 * Capped exponential backoff with full jitter (AWS Architecture Blog,
 * "Exponential Backoff and Jitter"): a uniform draw from
 * `[0, min(capMs, baseMs · 2^(attempt − 1)))`. Spreading the retries of many
 * clients over the whole window avoids the synchronized waves that plain
 * exponential backoff sends back to a recovering server.
 *
 * @example
 * ```ts
 * fullJitterDelay(3, 200, 30_000); // somewhere in [0, 800)
 * fullJitterDelay(3, 200, 30_000, () => 0.5); // 400
 * ```
 */
export function fullJitterDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  // 2 ** 1024 is Infinity and Math.min tames it, but a bounded exponent keeps the arithmetic exact.
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(0, attempt - 1), 30));
  return Math.floor(random() * ceiling);
}
