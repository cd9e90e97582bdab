import type { Operation, OperationLink } from '@trpc/client';
import type { Observable } from '@trpc/server/observable';
import type { AppRouter } from '../../../server/routers/app.js';

/** What a link's observable emitted, in order (the values of `next` are in `values`). */
export type LinkEvent = { type: 'next' } | { type: 'error'; error: unknown } | { type: 'complete' };

/**
 * Subscribes to one link's observable and records what it emits: `settled`
 * resolves on its error or completion, `unsubscribe` ends the subscription.
 */
export function observeLink(observable: Observable<unknown, unknown>) {
  const events: LinkEvent[] = [];
  const values: unknown[] = [];
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const subscription = observable.subscribe({
    next: (value) => {
      events.push({ type: 'next' });
      values.push(value);
    },
    error: (error) => {
      events.push({ type: 'error', error });
      settle();
    },
    complete: () => {
      events.push({ type: 'complete' });
      settle();
    },
  });
  return { events, values, settled, unsubscribe: () => subscription.unsubscribe() };
}

/** The rest of a chain that is one terminal link: nothing may come after it. */
export function endingWith(last: OperationLink<AppRouter>) {
  return (op: Operation) =>
    last({
      op,
      next: () => {
        throw new Error('nothing after the terminal link');
      },
    });
}
