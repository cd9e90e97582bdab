import { TRPCClientError, type TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import type { AppRouter } from '../../server/routers/app.js';
import { ThrottledError } from '../errors/throttled-error.js';
import type { ClientError } from '../internals/error-info.js';
import { isAbortCause, statusOf } from '../internals/error-info.js';
import { isOverloadRefusal } from '../internals/overload.js';

/** Options of the client's adaptive throttle (`createClient({ throttle })`); all optional. */
export interface ThrottleOptions {
  /**
   * K: how many requests per accepted one the client may send before it
   * starts refusing locally. 2 lets through twice what the server accepts;
   * lower is more aggressive.
   * @default 2
   */
  k?: number;
  /**
   * The sliding window the counts cover, in ms.
   * @default 120000
   */
  windowMs?: number;
  /**
   * Requests the window must hold before anything is refused: a client
   * that sends a few calls a minute cannot add to an overload, and the
   * formula alone would refuse half its calls after one failure.
   * @default 20
   */
  minRequests?: number;
}

/** {@link ThrottleOptions} checked, with defaults applied. */
export interface ResolvedThrottle {
  readonly k: number;
  readonly windowMs: number;
  readonly minRequests: number;
}

/**
 * Applies the defaults and checks {@link ThrottleOptions}; throws a TypeError naming the bad option.
 *
 * @example
 * ```ts
 * resolveThrottle({ k: 1.5 }); // { k: 1.5, windowMs: 120000, minRequests: 20 }
 * ```
 */
export function resolveThrottle(opts: ThrottleOptions = {}): ResolvedThrottle {
  const k = opts.k ?? 2;
  const windowMs = opts.windowMs ?? 120_000;
  const minRequests = opts.minRequests ?? 20;
  if (!Number.isInteger(minRequests) || minRequests < 0) throw new TypeError(`throttle.minRequests must be an integer ≥ 0, got ${String(minRequests)}`);
  if (!(k >= 1) || !Number.isFinite(k)) throw new TypeError(`throttle.k must be a finite number ≥ 1, got ${String(k)}`);
  if (!(windowMs >= 1000) || !Number.isFinite(windowMs)) throw new TypeError(`throttle.windowMs must be a finite number ≥ 1000, got ${String(windowMs)}`);
  return { k, windowMs, minRequests };
}

// The window is kept as this many buckets, so old counts leave it a slice at a time.
const BUCKETS = 60;

/**
 * Client-side throttling from Google's SRE book ("Handling Overload"):
 * over a sliding window the client counts the requests it attempted and
 * those the server accepted, and refuses a new one locally with
 * probability max(0, (requests − K·accepts) / (requests + 1)). While the
 * server accepts at least 1/K of them nothing is refused; once it mostly
 * answers "overloaded" (503 `reason: "overloaded"`) or nothing at all, the client sends only about K times what gets
 * through, so its retries cannot pile onto an overload. Local refusals
 * count as requests, which keeps the pressure on until accepts resume.
 * Nothing is refused while the window holds fewer than `minRequests`.
 *
 * @example
 * ```ts
 * const throttle = new AdaptiveThrottle(resolveThrottle());
 * if (throttle.admit() > 0) refuseLocally(); else send().then((r) => throttle.record(r.status !== 503));
 * ```
 */
export class AdaptiveThrottle {
  readonly #k: number;
  readonly #minRequests: number;
  readonly #bucketMs: number;
  readonly #requests = new Array<number>(BUCKETS).fill(0);
  readonly #accepts = new Array<number>(BUCKETS).fill(0);
  #requestSum = 0;
  #acceptSum = 0;
  /** The absolute index (time / bucketMs) of the newest bucket. */
  #head = 0;
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(opts: ResolvedThrottle, clock: { now?: () => number; random?: () => number } = {}) {
    this.#k = opts.k;
    this.#minRequests = opts.minRequests;
    this.#bucketMs = opts.windowMs / BUCKETS;
    this.#now = clock.now ?? Date.now;
    this.#random = clock.random ?? Math.random;
    this.#head = Math.floor(this.#now() / this.#bucketMs);
  }

  /** The probability a new request is refused now. */
  get rejectProbability(): number {
    this.#advance();
    if (this.#requestSum < this.#minRequests) return 0;
    return Math.max(0, (this.#requestSum - this.#k * this.#acceptSum) / (this.#requestSum + 1));
  }

  /**
   * Decides on an attempt: 0 to send it, else the probability it was
   * refused with (a refusal counts as a request at once; a sent one counts
   * when its answer is in, see {@link record}).
   */
  admit(): number {
    const p = this.rejectProbability;
    if (p === 0 || this.#random() >= p) return 0;
    this.#count(false);
    return p;
  }

  /**
   * Counts a sent attempt once its answer is in, accepted (anything but a
   * refusal) or not. Requests still in flight are not counted: a burst of
   * calls from a healthy client must not look like calls the server ignored.
   */
  record(accepted: boolean): void {
    this.#count(accepted);
  }

  #count(accepted: boolean): void {
    this.#advance();
    const slot = this.#head % BUCKETS;
    this.#requests[slot]! += 1;
    this.#requestSum += 1;
    if (accepted) {
      this.#accepts[slot]! += 1;
      this.#acceptSum += 1;
    }
  }

  /** Drops the buckets that have left the window. */
  #advance(): void {
    const head = Math.floor(this.#now() / this.#bucketMs);
    const steps = Math.min(head - this.#head, BUCKETS);
    for (let i = 1; i <= steps; i++) {
      const slot = (this.#head + i) % BUCKETS;
      this.#requestSum -= this.#requests[slot]!;
      this.#acceptSum -= this.#accepts[slot]!;
      this.#requests[slot] = 0;
      this.#accepts[slot] = 0;
    }
    if (head > this.#head) this.#head = head;
  }
}

/**
 * A refusal for want of capacity, or no answer at all: not an accept. A
 * 429 is an accept here: it is about this key's quota, which the shared
 * pause and the RateLimit pacing already follow, and counting it would
 * refuse calls that pacing lets through at the announced rate.
 */
function isRejection(error: ClientError): boolean {
  return statusOf(error) === undefined || isOverloadRefusal(error);
}

/**
 * Puts every attempt through the client's {@link AdaptiveThrottle}: a
 * refused one fails at once with a {@link ThrottledError} (never sent,
 * never retried); a sent one tells the throttle whether the server
 * accepted it. Place it after the retry link, so that each retry is
 * counted and may be refused too, and before the pacing link.
 *
 * @example
 * ```ts
 * createTRPCClient<AppRouter>({ links: [retryAfterLink(), adaptiveThrottleLink(new AdaptiveThrottle(resolveThrottle())), httpLink({ url })] });
 * ```
 */
export function adaptiveThrottleLink(throttle: AdaptiveThrottle): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const refusedWith = throttle.admit();
        if (refusedWith > 0) {
          const cause = new Error(`Refused locally: the server rejected most recent requests (p=${refusedWith.toFixed(2)}).`);
          observer.error(new ThrottledError(TRPCClientError.from<AppRouter>(cause), refusedWith));
          return () => {};
        }
        const subscription = next(op).subscribe({
          next(envelope) {
            observer.next(envelope);
          },
          error(error) {
            // An abort says nothing about the server: not counted.
            if (!isAbortCause(error)) throttle.record(!isRejection(error));
            observer.error(error);
          },
          complete() {
            throttle.record(true);
            observer.complete();
          },
        });
        return () => subscription.unsubscribe();
      });
}
