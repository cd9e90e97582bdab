/// <reference path="./bottleneck-light.d.ts" />
// The light build: no Redis clustering, which a client never uses (see bottleneck-light.d.ts).
import Bottleneck from 'bottleneck/light.js';
import type { ClientError } from '../../internals/error-info.js';
import { responseOf, retryAfterMsOf, statusOf } from '../../internals/error-info.js';
import { parseRateLimitPolicy, type QuotaPolicy } from '../../internals/rate-limit-policy.js';
import { isOverloadRefusal, spreadRetryAfter } from '../../internals/overload.js';
import { HEADERS } from '../../../shared/http-headers.js';
import { reportLater } from './abort.js';

/** Options of the client's outbound pacing (`createClient({ pacing })`). */
export interface PacingOptions {
  /**
   * Most requests in flight at once.
   * @default undefined (no limit)
   */
  maxConcurrent?: number;
  /**
   * Least time between the starts of two requests, in ms.
   * @default 0
   */
  minTimeMs?: number;
}

/** {@link PacingOptions} checked, or null when pacing is off. */
export interface ResolvedPacing {
  readonly maxConcurrent: number | null;
  readonly minTimeMs: number;
}

/**
 * Checks {@link PacingOptions}; null when none was given (then calls pass
 * the scheduler by while the client is not paused). Throws a TypeError
 * naming the bad option.
 *
 * @example
 * ```ts
 * resolvePacing({ maxConcurrent: 4 }); // { maxConcurrent: 4, minTimeMs: 0 }
 * resolvePacing(undefined); // null
 * ```
 */
export function resolvePacing(opts: PacingOptions | undefined): ResolvedPacing | null {
  if (opts === undefined) return null;
  const maxConcurrent = opts.maxConcurrent ?? null;
  const minTimeMs = opts.minTimeMs ?? 0;
  if (maxConcurrent !== null && (!Number.isInteger(maxConcurrent) || maxConcurrent < 1)) {
    throw new TypeError(`pacing.maxConcurrent must be an integer ≥ 1, got ${String(maxConcurrent)}`);
  }
  if (!(minTimeMs >= 0) || !Number.isFinite(minTimeMs)) throw new TypeError(`pacing.minTimeMs must be a finite number ≥ 0, got ${String(minTimeMs)}`);
  return { maxConcurrent, minTimeMs };
}

/**
 * The client's shared outbound scheduler, on bottleneck. States:
 * - open: no pacing, not paused; calls bypass bottleneck entirely (it costs
 *   1–5 ms a job, DESIGN.md "Measured facts").
 * - paced: `pacing` configured; every call queues in bottleneck.
 * - paused: a 429 came with Retry-After; bottleneck's reservoir is 0, so
 *   every call of this client waits there until the moment passes.
 * - recovering: the pause is over; the queue drains with its starts spaced
 *   at the server's announced rate (`RateLimit-Policy` q/w), so twenty
 *   waiting calls do not meet a nearly empty bucket together and earn
 *   twenty new 429s. Once bottleneck is idle, back to open (or paced).
 *
 * @example
 * ```ts
 * const pacer = new Pacer(resolvePacing({ maxConcurrent: 4 }));
 * if (pacer.engaged) pacer.schedule(() => send()); else void send();
 * ```
 */
export class Pacer {
  #mode: 'open' | 'paced' | 'paused' | 'recovering';
  #engaged: boolean;
  #limiter: Bottleneck | undefined;
  #pausedUntil = 0;
  #policy: QuotaPolicy | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #pacing: ResolvedPacing | null;

  constructor(pacing: ResolvedPacing | null) {
    this.#pacing = pacing;
    this.#mode = pacing ? 'paced' : 'open';
    this.#engaged = pacing !== null;
    if (pacing) this.#ensureLimiter();
  }

  /** True while calls must queue; false means a call may go straight out. */
  get engaged(): boolean {
    return this.#engaged;
  }

  /** The state, for tests and diagnostics. */
  get mode(): 'open' | 'paced' | 'paused' | 'recovering' {
    return this.#mode;
  }

  /** Queues `job` (one request, resolving when its answer is in); call only while {@link engaged}. */
  schedule(job: () => Promise<void>): void {
    // Keep the process alive for calls waiting out a pause; an idle pause must not.
    if (this.#mode === 'paused') this.#timer?.ref?.();
    this.#ensureLimiter().schedule(job).catch(reportLater);
  }

  /**
   * Reads an error: a 429 with a wait pauses every call of this client until
   * then; so does an overload 503, until a moment spread past its Retry-After
   * (see spreadRetryAfter), since the server refused many clients at once.
   */
  observe(error: ClientError): void {
    const overloaded = isOverloadRefusal(error);
    if (statusOf(error) !== 429 && !overloaded) return;
    const waitMs = retryAfterMsOf(error);
    if (waitMs === undefined || waitMs <= 0) return;
    if (overloaded) return this.pause(Date.now() + spreadRetryAfter(waitMs));
    this.pause(Date.now() + waitMs, parseRateLimitPolicy(responseOf(error)?.headers.get(HEADERS.rateLimitPolicy)));
  }

  /** Holds every call until `until` (epoch ms); a later pause extends, an earlier one is ignored. */
  pause(until: number, policy?: QuotaPolicy): void {
    if (policy) this.#policy = policy;
    if (until <= this.#pausedUntil) return;
    this.#pausedUntil = until;
    const limiter = this.#ensureLimiter();
    this.#mode = 'paused';
    this.#engaged = true;
    // bottleneck's reservoir at 0 holds every job; its reservoir top-ups are
    // not used (its heartbeat stops for good after a second updateSettings).
    void limiter.updateSettings({ reservoir: 0 });
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#resume(), Math.max(0, until - Date.now()));
    if (limiter.queued() === 0) this.#timer.unref?.();
  }

  /** Stops timers; queued calls stay queued. For tests and shutdown. */
  dispose(): void {
    clearTimeout(this.#timer);
    void this.#limiter?.disconnect();
  }

  #resume(): void {
    this.#timer = undefined;
    this.#mode = 'recovering';
    // Retry-After promises at least one token; after that the bucket refills
    // at no less than q/w (the draft's w is the time to refill an empty
    // bucket, rounded up), so spacing starts by w/q never outruns it.
    // Without an announced policy, release the queue and let the server judge.
    const policy = this.#policy;
    const spacingMs = policy ? Math.ceil((policy.windowSeconds * 1000) / policy.quota) : 0;
    const limiter = this.#ensureLimiter();
    void limiter.updateSettings({ reservoir: null, minTime: Math.max(this.#pacing?.minTimeMs ?? 0, spacingMs) });
    // Nobody waited: nothing to space out, and no job will end to say "idle".
    if (limiter.empty()) this.#onIdle();
  }

  #onIdle(): void {
    if (this.#mode !== 'recovering') return;
    this.#mode = this.#pacing ? 'paced' : 'open';
    this.#engaged = this.#pacing !== null;
    void this.#limiter?.updateSettings({ minTime: this.#pacing?.minTimeMs ?? 0 });
  }

  #ensureLimiter(): Bottleneck {
    if (this.#limiter) return this.#limiter;
    const limiter = new Bottleneck({
      maxConcurrent: this.#pacing?.maxConcurrent ?? null,
      minTime: this.#pacing?.minTimeMs ?? 0,
    });
    limiter.on('idle', () => this.#onIdle());
    limiter.on('error', reportLater);
    this.#limiter = limiter;
    return limiter;
  }
}
