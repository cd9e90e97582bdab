import {
  CircuitState,
  ConsecutiveBreaker,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleAll,
  timeout,
  wrap,
} from 'cockatiel';
import { ratesSchema, type Rates } from '../../shared/schemas/rates.js';

// "Breaker open" is cockatiel's BrokenCircuitError (thrown in microseconds,
// without calling the provider); every other failure is a RatesProviderError.
export { BrokenCircuitError, isBrokenCircuitError } from 'cockatiel';

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface RatesProviderOptions {
  /** The provider endpoint (`RATES_URL`); `base=USD` is added to its query. */
  url: string;
  /** Budget for one call, body included (`RATES_TIMEOUT_MS`). */
  timeoutMs: number;
  /** Consecutive failed calls that open the circuit (`BREAKER_FAILURES`). */
  breakerFailures: number;
  /** Time the circuit stays open before one trial call (`BREAKER_HALF_OPEN_MS`). */
  halfOpenAfterMs: number;
  /** Injected for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
}

export interface RatesProvider {
  /** Resolves validated rates, or rejects with a RatesProviderError or a BrokenCircuitError. */
  fetchRates(): Promise<Rates>;
  breakerState(): BreakerState;
  /** Time until an open circuit lets a trial call through; 0 when not open (or due now). */
  msUntilHalfOpen(): number;
  /** Calls `listener` on every breaker transition; returns the unsubscribe function. */
  onStateChange(listener: (state: BreakerState) => void): () => void;
}

export type RatesProviderFailure = 'timeout' | 'network' | 'status' | 'body';

/** The provider was called and failed: it did not answer in time, or answered something unusable. */
export class RatesProviderError extends Error {
  override readonly name = 'RatesProviderError' as const;
  constructor(
    readonly reason: RatesProviderFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function isRatesProviderError(e: unknown): e is RatesProviderError {
  return e instanceof Error && e.name === 'RatesProviderError';
}

const stateNames: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * The client of the exchange-rate provider: one `GET ${url}?base=USD` per
 * call, aborted after `timeoutMs`, behind a consecutive-failure circuit
 * breaker. While open, calls fail at once without touching the network; after
 * `halfOpenAfterMs` cockatiel lets exactly one trial call through (concurrent
 * callers wait for its outcome) and closes the circuit if it succeeds.
 */
export function createRatesProvider(opts: RatesProviderOptions): RatesProvider {
  const target = new URL(opts.url); // throws on a malformed RATES_URL, at start rather than per call
  target.searchParams.set('base', 'USD');
  const fetchImpl = opts.fetch ?? globalThis.fetch;
  const { timeoutMs, breakerFailures, halfOpenAfterMs } = opts;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError(`timeoutMs must be a positive number, got ${timeoutMs}`);
  if (!Number.isInteger(breakerFailures) || breakerFailures < 1) throw new RangeError(`breakerFailures must be an integer >= 1, got ${breakerFailures}`);
  if (!Number.isFinite(halfOpenAfterMs) || halfOpenAfterMs < 0) throw new RangeError(`halfOpenAfterMs must be a number >= 0, got ${halfOpenAfterMs}`);

  const breaker = circuitBreaker(handleAll, {
    halfOpenAfter: halfOpenAfterMs,
    breaker: new ConsecutiveBreaker(breakerFailures),
  });
  // The timeout sits inside the breaker so that a timeout counts as a failure.
  // Aggressive: the call rejects on time even if a fetch ignored its signal;
  // cockatiel aborts the signal either way, which cancels the real request.
  const policy = wrap(breaker, timeout(timeoutMs, TimeoutStrategy.Aggressive));

  // cockatiel keeps its own openedAt private; it reads Date.now(), so we do too.
  let openedAt = 0;
  breaker.onStateChange((state) => {
    if (state === CircuitState.Open) openedAt = Date.now();
  });

  const callOnce = async (signal: AbortSignal): Promise<Rates> => {
    let res: Response;
    try {
      res = await fetchImpl(target, { signal, headers: { accept: 'application/json' } });
    } catch (cause) {
      throw new RatesProviderError('network', `rates provider unreachable: ${describe(cause)}`, { cause });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined); // frees the connection for reuse
      throw new RatesProviderError('status', `rates provider answered ${res.status}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (cause) {
      throw new RatesProviderError('body', 'rates provider answered malformed JSON', { cause });
    }
    const parsed = ratesSchema.safeParse(body);
    if (!parsed.success) throw new RatesProviderError('body', 'rates provider answered an unexpected shape', { cause: parsed.error });
    if (parsed.data.base !== 'USD') throw new RatesProviderError('body', `rates provider answered base ${parsed.data.base}, not USD`);
    return parsed.data;
  };

  return {
    async fetchRates() {
      try {
        return await policy.execute(({ signal }) => callOnce(signal));
      } catch (e) {
        // cockatiel 3.2.1's isTaskCancelledError() tests the wrong brand, hence instanceof.
        if (e instanceof TaskCancelledError) {
          throw new RatesProviderError('timeout', `rates provider gave no answer within ${timeoutMs} ms`, { cause: e });
        }
        throw e;
      }
    },
    breakerState: () => stateNames[breaker.state],
    msUntilHalfOpen() {
      if (breaker.state !== CircuitState.Open) return 0;
      return Math.max(0, openedAt + halfOpenAfterMs - Date.now());
    },
    onStateChange(listener) {
      const subscription = breaker.onStateChange((state) => listener(stateNames[state]));
      return () => subscription.dispose();
    },
  };
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  // undici hides the useful part (ECONNREFUSED…) in cause.
  return e.cause instanceof Error ? `${e.message} (${e.cause.message})` : e.message;
}
