import type { TRPCLink } from '@trpc/client';
import { observable, type Unsubscribable } from '@trpc/server/observable';
import type { AppRouter } from '../../server/routers/app.js';
import { abortError } from './internals/abort.js';
import type { Pacer } from './internals/pacer.js';

/**
 * Sends every attempt through the client's shared {@link Pacer}: straight
 * out while the pacer is open (one boolean read), queued in bottleneck while
 * the client is paused by a 429 or when pacing is configured. It also shows
 * the pacer every error, so a 429 with Retry-After pauses all of this
 * client's calls. Place it after the retry link, so that each retry queues
 * too. Aborting a queued call's signal rejects it at once.
 *
 * @example
 * ```ts
 * const pacer = new Pacer(resolvePacing({ maxConcurrent: 4 }));
 * createTRPCClient<AppRouter>({ links: [retryAfterLink(), pacingLink(pacer), httpLink({ url })] });
 * ```
 */
export function pacingLink(pacer: Pacer): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const forward = (done?: () => void): Unsubscribable =>
          next(op).subscribe({
            next: (envelope) => observer.next(envelope),
            error: (error) => {
              pacer.observe(error);
              done?.();
              observer.error(error);
            },
            complete: () => {
              done?.();
              observer.complete();
            },
          });

        if (!pacer.engaged) {
          const subscription = forward();
          return () => subscription.unsubscribe();
        }

        const signal = op.signal ?? undefined;
        if (signal?.aborted) {
          observer.error(abortError(signal));
          return () => {};
        }
        let cancelled = false;
        let subscription: Unsubscribable | undefined;
        let release: (() => void) | undefined;
        const onAbort = () => {
          cancelled = true;
          observer.error(abortError(signal));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        pacer.schedule(
          () =>
            new Promise<void>((resolve) => {
              signal?.removeEventListener('abort', onAbort);
              // Given up while queued: free the slot without sending.
              if (cancelled) return resolve();
              release = resolve;
              subscription = forward(resolve);
            }),
        );
        return () => {
          cancelled = true;
          signal?.removeEventListener('abort', onAbort);
          subscription?.unsubscribe();
          // An unsubscribed request reports nothing more: free its slot here.
          release?.();
        };
      });
}
