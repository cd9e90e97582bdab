import type { Limit, LimitSample } from './limit.js';

/** Options of {@link gradient2Limit}; every one optional. */
export interface Gradient2Options {
  /** @default 20 */
  initialLimit?: number;
  /** @default 16 */
  minLimit?: number;
  /** @default 64 */
  maxLimit?: number;
  /** Share of each new estimate taken into the limit (0–1]. @default 0.2 */
  smoothing?: number;
  /** How far the limit may grow past what is in flight while latency stays flat. @default 4 */
  queueSize?: number;
  /** Windows the long-term latency averages over. @default 600 */
  longWindow?: number;
  /** Least time a sample window spans, in ms. @default 250 */
  windowMs?: number;
  /** Least samples in a window before it counts. @default 10 */
  windowSamples?: number;
}

/** The long-term RTT: a plain mean over the first `warmup` values, then an exponential average. */
function expAvg(window: number, warmup: number) {
  let value = 0;
  let count = 0;
  const factor = 2 / (window + 1);
  return {
    add(sample: number): number {
      if (count < warmup) {
        count++;
        value += (sample - value) / count;
      } else {
        value = value * (1 - factor) + sample * factor;
      }
      return value;
    },
    scale(by: number): void {
      value *= by;
    },
  };
}

/**
 * Netflix concurrency-limits' Gradient2 (Gradient2Limit.java, wrapped in
 * its WindowedLimit), the algorithm that project recommends: every window
 * (≥ windowMs and ≥ windowSamples finished requests) compares the window's
 * average RTT with a long-term exponential average of it,
 *
 *   gradient = clamp(longRtt / shortRtt, 0.5, 1)
 *   limit    = limit·(1 − smoothing) + (limit·gradient + queueSize)·smoothing
 *
 * so the limit creeps up by about queueSize·smoothing per window while
 * latency holds, and shrinks as soon as requests take longer than they
 * used to. Why this one over its siblings: Vegas and Envoy's gradient
 * controller compare against a *minimum* RTT, which a Node server cannot
 * measure without idling (Envoy pins concurrency low for a while to
 * re-measure it, shedding meanwhile); our RTTs are bursty (a page of 100
 * users beside a cached byId), which Netflix found biases a minimum
 * towards an impractically low limit. Averages do not. As in the original:
 * the limit does not grow while fewer than half its slots are used (an
 * idle server learns nothing about its capacity), and a long RTT left high
 * by a past overload decays quickly once latency is back to normal.
 *
 * @example
 * ```ts
 * const limit = gradient2Limit({ maxLimit: 100 });
 * limit.onSample({ now: performance.now(), rttMs: 4.2, inflight: 18, dropped: false });
 * limit.current; // 20 until a window is complete
 * ```
 */
export function gradient2Limit(opts: Gradient2Options = {}): Limit {
  const minLimit = opts.minLimit ?? 16;
  const maxLimit = opts.maxLimit ?? 64;
  const initialLimit = opts.initialLimit ?? Math.min(maxLimit, Math.max(minLimit, 20));
  const smoothing = opts.smoothing ?? 0.2;
  const queueSize = opts.queueSize ?? 4;
  const windowMs = opts.windowMs ?? 250;
  const windowSamples = opts.windowSamples ?? 10;
  if (!Number.isInteger(minLimit) || minLimit < 1) throw new RangeError(`minLimit must be an integer ≥ 1, got ${String(minLimit)}`);
  if (!Number.isInteger(maxLimit) || maxLimit < minLimit) throw new RangeError(`maxLimit must be an integer ≥ minLimit, got ${String(maxLimit)}`);
  if (!(initialLimit >= minLimit && initialLimit <= maxLimit)) throw new RangeError(`initialLimit must lie in [minLimit, maxLimit], got ${String(initialLimit)}`);
  if (!(smoothing > 0 && smoothing <= 1)) throw new RangeError(`smoothing must lie in (0, 1], got ${String(smoothing)}`);
  if (!(queueSize >= 0)) throw new RangeError(`queueSize must be ≥ 0, got ${String(queueSize)}`);

  const longRtt = expAvg(opts.longWindow ?? 600, 10);
  let estimate = initialLimit;
  let current = Math.floor(estimate);
  // The open window.
  let start = Number.NaN;
  let count = 0;
  let rttSum = 0;
  let maxInflight = 0;

  const update = (shortRtt: number, inflight: number) => {
    let long = longRtt.add(shortRtt);
    // Back from a long overload: do not wait for the slow average to forget it.
    if (long / shortRtt > 2) {
      longRtt.scale(0.9);
      long *= 0.9;
    }
    // App-limited: too little traffic to say anything about capacity.
    if (inflight < estimate / 2) return;
    const gradient = Math.max(0.5, Math.min(1, long / shortRtt));
    const next = estimate * (1 - smoothing) + (estimate * gradient + queueSize) * smoothing;
    estimate = Math.max(minLimit, Math.min(maxLimit, next));
    current = Math.floor(estimate);
  };

  return {
    get current() {
      return current;
    },
    onSample(sample: LimitSample) {
      if (Number.isNaN(start)) start = sample.now;
      count++;
      rttSum += sample.rttMs;
      if (sample.inflight > maxInflight) maxInflight = sample.inflight;
      if (count < windowSamples || sample.now - start < windowMs) return;
      const shortRtt = rttSum / count;
      const inflight = maxInflight;
      start = sample.now;
      count = 0;
      rttSum = 0;
      maxInflight = 0;
      // A window of zero-length requests says nothing about latency.
      if (shortRtt > 0) update(shortRtt, inflight);
    },
  };
}
