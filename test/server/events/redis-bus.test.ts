import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../../server/events/bus.js';
import { createRedisBus } from '../../../server/events/redis-bus.js';
import { startTcpProxy, type TcpProxy } from '../../helpers/tcp-proxy.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('redis-bus tests skipped: REDIS_URL is not set');
const redisPort = REDIS_URL ? Number(new URL(REDIS_URL).port || 6379) : 0;

const log = pino({ level: 'silent' });
const opened: Redis[] = [];
let proxy: TcpProxy | undefined;

function connect(url: string): Redis {
  // Reconnect at once: the test cuts the connection and restores it.
  const redis = new Redis(url, { retryStrategy: () => 20 });
  redis.on('error', () => {});
  opened.push(redis);
  return redis;
}

/** The next `name` event; unlike events.once, an 'error' meanwhile (a cut connection) does not reject it. */
function next(redis: Redis, name: 'ready' | 'close'): Promise<void> {
  return new Promise((resolve) => redis.once(name, () => resolve()));
}

async function ready(redis: Redis): Promise<void> {
  if (redis.status !== 'ready') await next(redis, 'ready');
}

afterEach(async () => {
  for (const r of opened.splice(0)) r.disconnect();
  await proxy?.close();
  proxy = undefined;
});

describe.skipIf(!REDIS_URL)('redis bus', () => {
  it("delivers another instance's events once, and not its own echo", async () => {
    const channel = `composure:test:bus:${randomUUID()}`;
    const aSubscriber = connect(REDIS_URL ?? '');
    const bSubscriber = connect(REDIS_URL ?? '');
    const a = createRedisBus({ command: connect(REDIS_URL ?? ''), subscriber: aSubscriber, channel, log });
    const b = createRedisBus({ command: connect(REDIS_URL ?? ''), subscriber: bSubscriber, channel, log });
    const heard = (sub: Redis, type = 'user.created') =>
      new Promise<void>((resolve) => {
        const listener = (_channel: string, text: string) => {
          if (!text.includes(`"${type}"`)) return;
          sub.off('message', listener);
          resolve();
        };
        sub.on('message', listener);
      });
    // Publish until both subscriptions are live (each has heard a message).
    const live = Promise.all([heard(aSubscriber), heard(bSubscriber)]);
    const probe = setInterval(() => a.publish({ type: 'user.created', tenantId: 1, id: 0 }), 20);
    await live;
    clearInterval(probe);

    const seenByA: DomainEvent[] = [];
    const seenByB: DomainEvent[] = [];
    // Probes still in flight are user.created: only the payment counts.
    a.subscribe((e) => e.type === 'payment.created' && seenByA.push(e));
    b.subscribe((e) => e.type === 'payment.created' && seenByB.push(e));
    const event: DomainEvent = { type: 'payment.created', tenantId: 1, id: 7, userId: 3 };
    const delivered = Promise.all([heard(aSubscriber, 'payment.created'), heard(bSubscriber, 'payment.created')]);
    a.publish(event);
    // The buses listened to 'message' before this test did: both have handled it by now.
    await delivered;
    expect(seenByB).toEqual([event]);
    expect(seenByA).toEqual([event]);
    await Promise.all([a.close?.(), b.close?.()]);
  });

  it('publishes bus.resync when its subscriber reconnects, and not on the first connection', async () => {
    proxy = await startTcpProxy(redisPort);
    const subscriber = connect(proxy.url('redis'));
    const bus = createRedisBus({ command: connect(REDIS_URL ?? ''), subscriber, channel: `composure:test:bus:${randomUUID()}`, log });
    const events: DomainEvent[] = [];
    bus.subscribe((e) => events.push(e));
    await ready(subscriber);
    expect(events).toEqual([]);

    // Pub/sub drops what is published while the subscriber is away: a cut and a reconnect.
    const closed = next(subscriber, 'close');
    proxy.setMode('refuse');
    await closed;
    proxy.setMode('pass');
    // The bus listened to 'ready' before this test did, so it has spoken by the time this resolves.
    await next(subscriber, 'ready');
    expect(events).toEqual([{ type: 'bus.resync' }]);
    await bus.close?.();
  });
});
