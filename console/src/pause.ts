import type { RetryEvent } from 'composure-client';

type Listener = () => void;

/**
 * When the client's shared pause ends: a 429 holds every call of the client
 * until its Retry-After, and the client tells `onRetry` how long it waits.
 */
export function createPauseWatch() {
  let until = 0;
  let lastWaitMs = 0;
  const listeners = new Set<Listener>();
  return {
    onRetry(event: RetryEvent) {
      if (event.source !== 'retry-after') return;
      until = Math.max(until, Date.now() + event.delayMs);
      lastWaitMs = event.delayMs;
      for (const listener of listeners) listener();
    },
    subscribe(listener: Listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    until: () => until,
    /** The latest wait the client was asked for, in ms (0 before any). */
    lastWaitMs: () => lastWaitMs,
  };
}

export type PauseWatch = ReturnType<typeof createPauseWatch>;
