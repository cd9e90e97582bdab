/**
 * The seam between the rate-limit middleware and where bucket state lives
 * (process memory, or Redis when several instances share one API).
 *
 * Every store implements the same token bucket: a bucket holds at most
 * `burst` tokens, refills continuously at `perSecond`, and a request is
 * admitted when `cost` whole tokens are there, which it then removes. An
 * empty bucket rejects at once; nothing queues.
 */

export interface BucketPlan {
  /** Bucket capacity: the most requests (of cost 1) admitted at once. Positive, finite. */
  burst: number;
  /** Refill rate in tokens per second. Positive, finite. */
  perSecond: number;
  /** Policy name for `RateLimit-Policy`, e.g. `"default"`. Printable ASCII. */
  name: string;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole tokens left after this decision (nothing is taken when rejected). */
  remaining: number;
  /**
   * 0 when allowed; else the whole milliseconds until `cost` tokens exist,
   * never earlier than the truth: a retry that late is admitted unless
   * something else took tokens meanwhile. For `cost > burst`, which is never
   * admitted, it is the time to refill an empty bucket (see `take`).
   */
  retryAfterMs: number;
  /** Whole milliseconds until the bucket is full again (0 when full). */
  resetMs: number;
  /** The plan's burst, echoed so headers need no second look-up. */
  limit: number;
}

export interface RateLimitStore {
  /**
   * Takes `cost` tokens (default 1) from `key`'s bucket, or rejects.
   *
   * A request costing more than `plan.burst` can never be admitted: it is
   * rejected without taking anything, and its `retryAfterMs` is the time to
   * refill a whole bucket (the policy window), a finite value that keeps
   * clients from hammering. Callers that want another status for it compare
   * `cost > plan.burst` themselves.
   *
   * Returns a plain value when the store can answer synchronously (memory),
   * so the hot path pays no microtask; callers await only a Promise. An
   * invalid plan or cost is a programming error and throws `RangeError`.
   *
   * Keys share one namespace per store: callers prefix them by purpose
   * (`key:`, `ip:`) when one store serves several limits.
   */
  take(key: string, plan: BucketPlan, cost?: number): RateLimitDecision | Promise<RateLimitDecision>;
  /** Releases what the store owns (never a client it was handed). */
  close?(): Promise<void>;
}

/**
 * Tolerance, in tokens, for floating-point drift in refill sums: without it
 * a bucket refilled in several steps can hold 0.9999999999 tokens when the
 * arithmetic says 1, and a retry at exactly `retryAfterMs` would fail.
 * The Redis script uses the same value.
 */
export const TOKEN_EPSILON = 1e-6;

export function assertValidTake(plan: BucketPlan, cost: number): void {
  if (!(plan.burst > 0 && plan.burst < Infinity)) {
    throw new RangeError(`plan.burst must be a positive finite number, got ${plan.burst}`);
  }
  if (!(plan.perSecond > 0 && plan.perSecond < Infinity)) {
    throw new RangeError(`plan.perSecond must be a positive finite number, got ${plan.perSecond}`);
  }
  if (!(cost > 0 && cost < Infinity)) {
    throw new RangeError(`cost must be a positive finite number, got ${cost}`);
  }
}

/** Milliseconds to refill an empty bucket: the window a rejection of `cost > burst` waits. */
export function fullRefillMs(plan: BucketPlan): number {
  return Math.ceil((plan.burst * 1000) / plan.perSecond);
}
