import type { Rates } from '../../shared/schemas/rates.js';
import type { RatesProvider } from './rates-provider.js';

export interface RatesServiceOptions {
  /** Only these two calls are used, so tests can pass a stub. */
  provider: Pick<RatesProvider, 'fetchRates' | 'msUntilHalfOpen'>;
  /** Fresh lifetime of the last good answer (`RATES_TTL_MS`). */
  ttlMs: number;
  /** Age up to which the last good answer may be served stale (`RATES_STALE_MS`), counted from when it was stored. */
  staleMs: number;
  /** Clock for ages and lifetimes, in ms. @default Date.now */
  now?: () => number;
}

export interface RatesAnswer {
  rates: Rates;
  freshness: 'fresh' | 'stale';
  /** Time since the answer was fetched: the HTTP `Age` (RFC 9111 §5.1), in ms. */
  ageMs: number;
  /** When the answer was fetched, on the service's clock. */
  storedAt: number;
  ttlMs: number;
}

export interface RatesService {
  /** The last good rates while fresh, else a refresh; stale rates if the refresh fails; else RatesUnavailableError. */
  latest(): Promise<RatesAnswer>;
  /** The last good rates without calling the provider, or null when there are none younger than staleMs. */
  peek(): Rates | null;
  /** `cents` of `currency` in the base currency, from peek(); null when no rates or an unknown currency. */
  convert(cents: number, currency: string): number | null;
}

/** No rates can be had, fresh or stale: the router answers 503 with Retry-After. */
export class RatesUnavailableError extends Error {
  override readonly name = 'RatesUnavailableError' as const;
  constructor(
    /** Until the breaker lets a trial call through; at least a second, so clients do not hammer. */
    readonly retryAfterMs: number,
    options?: ErrorOptions,
  ) {
    super('exchange rates are unavailable', options);
  }
}

export function isRatesUnavailableError(e: unknown): e is RatesUnavailableError {
  return e instanceof Error && e.name === 'RatesUnavailableError';
}

const minRetryAfterMs = 1000;

interface Stored {
  rates: Rates;
  storedAt: number;
}

/**
 * `cents` of `currency` expressed in `rates.base` cents: `cents / rate`,
 * rounded half away from zero to an integer. The base currency converts at 1;
 * a currency the rates do not list, or a rate that would make the amount
 * inexact (past 2^53), gives null (a partial answer, not a guess).
 */
export function convertToBase(rates: Rates, cents: number, currency: string): number | null {
  if (currency === rates.base) return cents;
  const rate = rates.rates[currency];
  if (rate === undefined) return null;
  const exact = cents / rate;
  // Math.round alone rounds -2.5 to -2; refunds should mirror charges.
  const rounded = Math.round(Math.abs(exact));
  // A provider's absurd rate (0, 1e-12) must not turn into an inexact or infinite amount, and a 500 at output validation.
  if (!Number.isSafeInteger(rounded)) return null;
  return exact < 0 ? -rounded : rounded;
}

/**
 * Serves `rates.latest` with stale-if-error semantics (RFC 5861 §4): one
 * value in memory, refreshed through the provider once older than `ttlMs`,
 * with concurrent refreshes sharing one provider call.
 */
export function createRatesService(opts: RatesServiceOptions): RatesService {
  const { provider, ttlMs, staleMs } = opts;
  const now = opts.now ?? Date.now;
  if (!Number.isFinite(ttlMs) || ttlMs < 0) throw new RangeError(`ttlMs must be a number >= 0, got ${ttlMs}`);
  if (!Number.isFinite(staleMs) || staleMs < 0) throw new RangeError(`staleMs must be a number >= 0, got ${staleMs}`);

  let last: Stored | null = null;
  let inflight: Promise<Stored> | null = null;

  const answer = (stored: Stored, freshness: RatesAnswer['freshness']): RatesAnswer => ({
    rates: stored.rates,
    freshness,
    ageMs: Math.max(0, now() - stored.storedAt),
    storedAt: stored.storedAt,
    ttlMs,
  });

  const usable = (maxAgeMs: number): Stored | null => (last !== null && now() - last.storedAt < maxAgeMs ? last : null);

  const refresh = async (): Promise<Stored> => {
    try {
      const rates = await provider.fetchRates();
      last = { rates, storedAt: now() };
      return last;
    } finally {
      inflight = null;
    }
  };

  return {
    async latest() {
      const fresh = usable(ttlMs);
      if (fresh) return answer(fresh, 'fresh');
      inflight ??= refresh();
      try {
        return answer(await inflight, 'fresh');
      } catch (cause) {
        const stale = usable(staleMs);
        if (stale) return answer(stale, 'stale');
        last = null; // too old to serve ever again: do not keep it
        throw new RatesUnavailableError(Math.max(minRetryAfterMs, provider.msUntilHalfOpen()), { cause });
      }
    },
    peek: () => usable(staleMs)?.rates ?? null,
    convert(cents, currency) {
      const rates = usable(staleMs)?.rates;
      return rates ? convertToBase(rates, cents, currency) : null;
    },
  };
}
