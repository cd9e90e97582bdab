/**
 * What a limit algorithm learns from one finished request: how long it
 * held its slot, how many requests held one with it, and whether it was
 * dropped (timed out or failed for want of capacity).
 */
export interface LimitSample {
  /** When the request finished, in ms on the admission's clock. */
  readonly now: number;
  /** From taking the slot to the answer being written, in ms. */
  readonly rttMs: number;
  /** Requests holding a slot when this one took its own (itself included). */
  readonly inflight: number;
  readonly dropped: boolean;
}

/**
 * A concurrency limit algorithm, Netflix concurrency-limits' `Limit`: the
 * admission asks for `current` before starting a request and reports
 * every finished one. Algorithms are small strategy objects behind this
 * one interface (fixed-limit.ts, gradient2-limit.ts), chosen once from the
 * configuration, so the admission itself never knows which one it runs.
 */
export interface Limit {
  /** Most requests that may hold a slot at once; an integer ≥ 1. */
  readonly current: number;
  onSample(sample: LimitSample): void;
}
