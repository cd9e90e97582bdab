/** What one event-loop turn did, as the admission saw it: from its first request to its end (setImmediate). */
export interface TurnSample {
  readonly durationMs: number;
  /** Requests it started. */
  readonly started: number;
  /** Requests it refused. */
  readonly refused: number;
}

/**
 * How many requests one event-loop turn may start before it counts as
 * full, and carry to its end once it is (fair-admission.ts): the limit
 * that binds where work is synchronous. A concurrency limit cannot: a
 * request on SQLite runs to its answer within the callback that read it,
 * so one is in flight at a time however loaded the server is.
 */
export interface TurnBudget {
  /** An integer ≥ 1. */
  readonly current: number;
  onTurn(sample: TurnSample): void;
}

/** Options of {@link adaptiveTurnBudget}. */
export interface AdaptiveTurnBudgetOptions {
  /** The time the requests a full turn starts at its end may take together, in ms. */
  targetMs: number;
  min: number;
  max: number;
  /** Until a window is complete. @default min */
  initial?: number;
  /** Starts a window counts before it updates the cost. @default 64 */
  windowStarts?: number;
  /** Share of each window's cost taken into the average (0–1]. @default 0.2 */
  smoothing?: number;
}

/** A budget that stays where it was set (ADMISSION_LIMIT). */
export function fixedTurnBudget(budget: number): TurnBudget {
  if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`budget must be an integer ≥ 1, got ${String(budget)}`);
  return { current: budget, onTurn() {} };
}

/**
 * The budget from the event loop's own latency, in the spirit of
 * fastify's under-pressure (event-loop delay and utilisation as the
 * signal) rather than a per-request RTT: the time a turn spends per
 * request it starts is what a request read next waits for each one
 * started before it. Little's law turns that cost into a count: the
 * budget is as many starts as fit in `targetMs` (half the queue timeout:
 * what a carried request may wait at the turn's end, having perhaps
 * waited as long within it), within [min, max]. The cost is learnt from
 * turns that refused nothing (a refusal's write is not a start's work,
 * and a shedding turn would price starts at what refusals cost), summed
 * over a window of starts (a turn of one request carries the turn's fixed
 * cost alone) and smoothed across windows. The signal is the loop's time,
 * so it holds for asynchronous work too (a PostgreSQL query's wait is not
 * in it; its callbacks' work is).
 *
 * @example
 * ```ts
 * const budget = adaptiveTurnBudget({ targetMs: 50, min: 16, max: 64 });
 * budget.onTurn({ durationMs: 32, started: 64, refused: 0 });
 * budget.current; // 64: 0.5 ms a start, 100 fit in 50 ms
 * ```
 */
export function adaptiveTurnBudget(opts: AdaptiveTurnBudgetOptions): TurnBudget {
  const { targetMs, min, max } = opts;
  const initial = opts.initial ?? min;
  const windowStarts = opts.windowStarts ?? 64;
  const smoothing = opts.smoothing ?? 0.2;
  if (!(targetMs > 0)) throw new RangeError(`targetMs must be > 0, got ${String(targetMs)}`);
  if (!Number.isInteger(min) || min < 1) throw new RangeError(`min must be an integer ≥ 1, got ${String(min)}`);
  if (!Number.isInteger(max) || max < min) throw new RangeError(`max must be an integer ≥ min, got ${String(max)}`);
  if (!(initial >= min && initial <= max)) throw new RangeError(`initial must lie in [min, max], got ${String(initial)}`);
  if (!(smoothing > 0 && smoothing <= 1)) throw new RangeError(`smoothing must lie in (0, 1], got ${String(smoothing)}`);

  let current = Math.floor(initial);
  let costMs = Number.NaN;
  let windowMs = 0;
  let windowCount = 0;

  return {
    get current() {
      return current;
    },
    onTurn({ durationMs, started, refused }: TurnSample) {
      if (refused > 0 || started === 0 || !(durationMs >= 0)) return;
      windowMs += durationMs;
      windowCount += started;
      if (windowCount < windowStarts) return;
      const cost = windowMs / windowCount;
      windowMs = 0;
      windowCount = 0;
      costMs = Number.isNaN(costMs) ? cost : costMs * (1 - smoothing) + cost * smoothing;
      // Turns too short for the clock to see say that anything fits.
      current = costMs > 0 ? Math.max(min, Math.min(max, Math.floor(targetMs / costMs))) : max;
    },
  };
}
