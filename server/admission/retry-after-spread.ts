/** Options of {@link createRetryAfterSpread}. */
export interface RetryAfterSpreadOptions {
  /** The shortest wait asked, in whole seconds (≥ 1). */
  baseS: number;
  /** The longest wait asked, in whole seconds (≥ baseS). */
  maxS: number;
}

// The demonstrated rate fades by this factor per second, so a server that
// has become slower (a cold cache, a noisy neighbour) spreads its refused
// load wider within minutes; it never drops below what the last second showed.
const FADE_PER_S = 0.99;

/**
 * Picks each overload refusal's Retry-After so that the refused load comes
 * back at about the rate the server starts requests, not all at once.
 *
 * A burst refused in one moment and told the same whole second comes back
 * as one burst a second later, is refused again but for what the turn can
 * start, and leaves the server idle in between (measured: 0.5× capacity in
 * the overload benchmark). Google's SRE book ("Handling Overload") and
 * AWS's "Timeouts, retries and backoff with jitter" ask for retries spread
 * over time; delay-seconds is whole seconds and clients add their own
 * jitter, so the server's part is to hand out different seconds: each
 * refusal books one start's worth of time (1 / rate) on a virtual clock
 * that runs ahead of now while bookings outpace the rate, as a GCRA's
 * theoretical arrival time does, and is told the whole seconds to its
 * booking, between `baseS` and `maxS`; within a second of a refusal, each
 * start books its share as well (see `started`). The rate is the most requests
 * started in one second lately (a refused request is one that found the
 * server at its rate). Unknown rate (nothing started yet): `baseS`.
 * Two clock reads' worth of arithmetic per call, no allocation.
 *
 * @example
 * ```ts
 * const spread = createRetryAfterSpread({ baseS: 1, maxS: 10 });
 * spread.started(performance.now());
 * spread.next(performance.now()); // 1, then more as refusals pile up
 * ```
 */
export function createRetryAfterSpread(opts: RetryAfterSpreadOptions) {
  const { baseS, maxS } = opts;
  if (!Number.isInteger(baseS) || baseS < 1) throw new RangeError(`baseS must be an integer ≥ 1, got ${String(baseS)}`);
  if (!Number.isInteger(maxS) || maxS < baseS) throw new RangeError(`maxS must be an integer ≥ baseS, got ${String(maxS)}`);
  let secondStart = -Infinity;
  let thisSecond = 0;
  let ratePerS = 0;
  let bookedUntil = -Infinity;
  let lastRefusalAt = -Infinity;

  /** Closes the current one-second count when a second has passed since it began. */
  const roll = (at: number) => {
    const elapsedMs = at - secondStart;
    if (elapsedMs < 1000) return;
    if (Number.isFinite(secondStart)) {
      const faded = ratePerS * FADE_PER_S ** (elapsedMs / 1000);
      // A count of a second that ended long ago says nothing about the last one.
      ratePerS = Math.max(faded, elapsedMs < 2000 ? thisSecond : 0);
    }
    secondStart = at;
    thisSecond = 0;
  };

  return {
    /** Counts a request started at `at` (ms). */
    started(at: number): void {
      roll(at);
      thisSecond++;
      // While it sheds, what it starts is served ahead of the booked
      // returns: the clients it served send again at once, and a return
      // finds the server as busy as the refusal did. So each start pushes
      // the bookings back by its share of the rate, as a refusal does, and
      // the waits asked grow while the overload lasts instead of sending
      // the refused back to be refused again (measured without it: about
      // one refusal for every two starts, every one told 1 s).
      if (bookedUntil > at && at - lastRefusalAt < 1000) {
        const rate = Math.max(ratePerS, thisSecond);
        bookedUntil = Math.min(bookedUntil + 1000 / rate, at + maxS * 1000);
      }
    },
    /** The Retry-After, in whole seconds, for a request refused at `at` (ms). */
    next(at: number): number {
      roll(at);
      lastRefusalAt = at;
      // The current second's count so far is a floor for the rate (a fresh server has no other).
      const rate = Math.max(ratePerS, thisSecond);
      if (rate <= 0) return baseS;
      // Bookings past maxS are not kept: they would hold the longest wait after the flood ends.
      bookedUntil = Math.min(Math.max(bookedUntil, at) + 1000 / rate, at + maxS * 1000);
      // Less a microsecond: `at + 1000 - at` may come out a hair above 1000 in floating point.
      const s = Math.ceil((bookedUntil - at - 1e-3) / 1000);
      return s < baseS ? baseS : s > maxS ? maxS : s;
    },
  };
}
export type RetryAfterSpread = ReturnType<typeof createRetryAfterSpread>;
