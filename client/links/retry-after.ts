import type { Operation, TRPCLink } from '@trpc/client';
import { RETRYABLE_STATUSES } from '../../shared/error-codes.js';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import type { AppRouter } from '../../server/routers/app.js';
import { isInFlight } from '../errors/idempotency-conflict-error.js';
import type { ClientError } from '../internals/error-info.js';
import { isAbortCause, retryAfterMsOf, statusOf } from '../internals/error-info.js';
import { fullJitterDelay } from '../internals/retry-timing.js';
import { isOverloadRefusal, spreadRetryAfter } from '../internals/overload.js';
import { isThrottledError } from '../errors/throttled-error.js';
import { abortError, reportLater } from './internals/abort.js';

/** Options of the client's retries (`createClient({ retry })`). */
export interface RetryOptions {
  /**
   * Attempts per call, the first included; 1 turns retries off.
   * @default 4
   */
  maxAttempts?: number;
  /**
   * Cap of one wait between attempts. A server asking for a longer wait
   * (`Retry-After`) is not retried: the error reaches the caller at once,
   * with `retryAfterMs`, so it can decide.
   * @default 30000
   */
  maxDelayMs?: number;
  /**
   * Scale of the exponential backoff used when the server gives no
   * `Retry-After`: attempt n waits a random time below `baseDelayMs · 2^(n−1)`.
   * @default 200
   */
  baseDelayMs?: number;
  /**
   * Told of every retry before its wait starts (for logs and metrics).
   * @default undefined
   */
  onRetry?: (event: RetryEvent) => void;
}

/** What {@link RetryOptions.onRetry} is told. */
export interface RetryEvent {
  readonly path: string;
  readonly type: Operation['type'];
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** The wait before the next attempt. */
  readonly delayMs: number;
  /** Where the wait came from: the server's `Retry-After`/`retryAfterMs`, or backoff. */
  readonly source: 'retry-after' | 'backoff';
  readonly error: ClientError;
  readonly idempotencyKey: string | undefined;
}

/** {@link RetryOptions} with every default applied. */
export interface ResolvedRetryOptions {
  readonly maxAttempts: number;
  readonly maxDelayMs: number;
  readonly baseDelayMs: number;
  readonly onRetry: ((event: RetryEvent) => void) | undefined;
}

/**
 * Applies the defaults and checks {@link RetryOptions}; throws a TypeError
 * naming the bad option.
 *
 * @example
 * ```ts
 * resolveRetryOptions({ maxAttempts: 2 }); // { maxAttempts: 2, maxDelayMs: 30000, baseDelayMs: 200, onRetry: undefined }
 * ```
 */
export function resolveRetryOptions(opts: RetryOptions = {}): ResolvedRetryOptions {
  const maxAttempts = opts.maxAttempts ?? 4;
  const maxDelayMs = opts.maxDelayMs ?? 30_000;
  const baseDelayMs = opts.baseDelayMs ?? 200;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new TypeError(`retry.maxAttempts must be an integer ≥ 1, got ${String(maxAttempts)}`);
  if (!(maxDelayMs >= 0) || !Number.isFinite(maxDelayMs)) throw new TypeError(`retry.maxDelayMs must be a finite number ≥ 0, got ${String(maxDelayMs)}`);
  if (!(baseDelayMs >= 0) || !Number.isFinite(baseDelayMs)) throw new TypeError(`retry.baseDelayMs must be a finite number ≥ 0, got ${String(baseDelayMs)}`);
  if (opts.onRetry !== undefined && typeof opts.onRetry !== 'function') throw new TypeError('retry.onRetry must be a function');
  return { maxAttempts, maxDelayMs, baseDelayMs, onRetry: opts.onRetry };
}

interface Plan {
  delayMs: number;
  source: RetryEvent['source'];
}

/** When to try again after `error` on attempt `attempt`, or undefined to give up with it. */
function planRetry(error: ClientError, op: Operation, attempt: number, o: ResolvedRetryOptions): Plan | undefined {
  if (attempt >= o.maxAttempts || op.type === 'subscription') return undefined;
  // A mutation is safe to repeat only under an Idempotency-Key: the server
  // then replays the first result instead of acting twice.
  if (op.type === 'mutation' && typeof op.context['idempotencyKey'] !== 'string') return undefined;
  if (op.signal?.aborted || isAbortCause(error)) return undefined;
  // Refused by this client's own throttle: retrying would only be refused again, or add to the overload.
  if (isThrottledError(error)) return undefined;
  const status = statusOf(error);
  // No status: the connection failed or the answer was unreadable. A 409 is
  // retried only when it says the key's first request is still running.
  const retryable =
    status === undefined || (RETRYABLE_STATUSES.has(status) && (status !== 409 || isInFlight(error)));
  if (!retryable) return undefined;
  const after = retryAfterMsOf(error);
  if (after !== undefined) {
    if (after > o.maxDelayMs) return undefined;
    // Shed with many others at the same moment: come back spread out, never earlier than asked.
    const delayMs = isOverloadRefusal(error) ? Math.min(o.maxDelayMs, spreadRetryAfter(after)) : after;
    return { delayMs, source: 'retry-after' };
  }
  return { delayMs: fullJitterDelay(attempt, o.baseDelayMs, o.maxDelayMs), source: 'backoff' };
}

/**
 * Retries what is worth retrying: 429, 503, 409 `idempotency_in_flight`
 * and network failures, for queries and for mutations that carry an
 * idempotency key. It waits as long as `Retry-After` (delay-seconds or
 * HTTP-date) or `error.data.retryAfterMs` say, else capped exponential
 * backoff with full jitter; an abort of the call's signal during a wait
 * rejects at once. After `maxAttempts` it gives up with the last error.
 * (tRPC's own retryLink reads no Retry-After and cannot be aborted while
 * waiting, hence this link.)
 *
 * @example
 * ```ts
 * createTRPCClient<AppRouter>({ links: [idempotencyLink(), retryAfterLink({ maxAttempts: 5 }), httpLink({ url })] });
 * ```
 */
export function retryAfterLink(opts: RetryOptions = {}): TRPCLink<AppRouter> {
  const o = resolveRetryOptions(opts);
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        let attempt = 0;
        let current: Unsubscribable | undefined;
        let timer: ReturnType<typeof setTimeout> | undefined;
        let stopped = false;
        const signal = op.signal ?? undefined;

        const onAbort = () => {
          clearTimeout(timer);
          stopped = true;
          observer.error(abortError(signal));
        };

        const start = () => {
          attempt += 1;
          current = next(op).subscribe({
            next: (envelope) => observer.next(envelope),
            complete: () => observer.complete(),
            error: (error) => {
              if (stopped) return;
              const plan = planRetry(error, op, attempt, o);
              if (!plan) {
                observer.error(error);
                return;
              }
              if (o.onRetry) {
                try {
                  const key = op.context['idempotencyKey'];
                  o.onRetry({ path: op.path, type: op.type, attempt, ...plan, error, idempotencyKey: typeof key === 'string' ? key : undefined });
                } catch (hookError) {
                  reportLater(hookError);
                }
              }
              signal?.addEventListener('abort', onAbort, { once: true });
              timer = setTimeout(() => {
                signal?.removeEventListener('abort', onAbort);
                start();
              }, plan.delayMs);
            },
          });
        };

        start();
        return () => {
          stopped = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          current?.unsubscribe();
        };
      });
}
