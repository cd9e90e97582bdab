import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { createMemoryBus, type DomainEvent, type EventBus } from './bus.js';

interface Envelope {
  origin: string;
  event: DomainEvent;
}

/**
 * The invalidation bus across instances: every event is delivered locally at
 * once (so the writer reads its own write without a round trip) and published
 * on a Redis channel for the other instances. Pub/sub is fire-and-forget, so
 * when the subscriber reconnects the bus emits `bus.resync`: whatever was
 * published during the outage is unknown, and local caches must drop all.
 */
export function createRedisBus(opts: { command: Redis; subscriber: Redis; channel: string; log: Logger }): EventBus {
  const local = createMemoryBus();
  const origin = randomUUID();
  let connectedOnce = false;

  const onMessage = (channel: string, text: string) => {
    if (channel !== opts.channel) return;
    try {
      const envelope = JSON.parse(text) as Envelope;
      if (envelope.origin !== origin) local.publish(envelope.event);
    } catch (err) {
      opts.log.warn({ err }, 'ignored a malformed bus message');
    }
  };
  const onReady = () => {
    if (connectedOnce) local.publish({ type: 'bus.resync' });
    connectedOnce = true;
  };
  opts.subscriber.on('message', onMessage);
  opts.subscriber.on('ready', onReady);
  if (opts.subscriber.status === 'ready') connectedOnce = true;
  opts.subscriber.subscribe(opts.channel).catch((err: unknown) => opts.log.warn({ err }, 'bus subscribe failed; will retry on reconnect'));

  return {
    publish(event) {
      local.publish(event);
      const envelope: Envelope = { origin, event };
      // A lost publish is healed by the resync the others run when they reconnect.
      opts.command.publish(opts.channel, JSON.stringify(envelope)).catch(() => undefined);
    },
    subscribe: local.subscribe,
    async close() {
      opts.subscriber.off('message', onMessage);
      opts.subscriber.off('ready', onReady);
    },
  };
}
