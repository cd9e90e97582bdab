import { EventEmitter } from 'node:events';

/** A domain event: what changed, in which tenant. Caches subscribe to evict. */
export type DomainEvent =
  | { type: 'user.created'; tenantId: number; id: number }
  | { type: 'payment.created'; tenantId: number; id: number; userId: number }
  // Events may have been missed (the shared bus reconnected): drop every local entry.
  | { type: 'bus.resync' };

export type EventListener = (event: DomainEvent) => void;

/**
 * The invalidation seam: in-process here; the Redis-backed bus implements the
 * same interface so a write on one instance reaches every other.
 */
export interface EventBus {
  publish(event: DomainEvent): void;
  subscribe(listener: EventListener): () => void;
  close?(): Promise<void>;
}

export function createMemoryBus(): EventBus {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    publish: (event) => emitter.emit('event', event),
    subscribe(listener) {
      emitter.on('event', listener);
      return () => emitter.off('event', listener);
    },
  };
}
