import { TRPCClientError } from '@trpc/client';
import type { AppRouter } from '../../../server/routers/app.js';

/**
 * The error a call rejects with when its signal fires while the client holds
 * it (waiting to retry, or queued behind a pause): the signal's reason, as
 * fetch would reject with mid-request, so both cases look alike to callers.
 *
 * @example
 * ```ts
 * signal.addEventListener('abort', () => observer.error(abortError(signal)), { once: true });
 * ```
 */
export function abortError(signal: AbortSignal | null | undefined): TRPCClientError<AppRouter> {
  const reason: unknown = signal?.reason;
  const cause = reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
  return TRPCClientError.from<AppRouter>(cause);
}

/**
 * Rethrows a user callback's error outside the link chain, where it cannot corrupt the call.
 *
 * @example
 * ```ts
 * try { opts.onRetry?.(event); } catch (e) { reportLater(e); }
 * ```
 */
export function reportLater(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}
