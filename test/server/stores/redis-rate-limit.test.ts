import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryRateLimitStore } from '../../../server/stores/memory-rate-limit.js';
import {
  RedisTimeoutError,
  createRedisRateLimitStore,
  failFastRedisOptions,
} from '../../../server/stores/redis-rate-limit.js';
import type { BucketPlan, RateLimitDecision } from '../../../server/stores/rate-limit-store.js';
import { deleteKeys } from '../../helpers/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('redis-rate-limit tests skipped: REDIS_URL is not set');

const plan: BucketPlan = { burst: 5, perSecond: 20, name: 'default' };

async function ready(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    setTimeout(() => reject(new Error('Redis not ready within 2 s')), 2_000).unref();
  });
}

function connect(url: string): Redis {
  const redis = new Redis(url, failFastRedisOptions);
  redis.on('error', () => {});
  return redis;
}

/** A TCP proxy in front of Redis whose replies the test can hold back. */
async function stallableProxy(target: URL) {
  let stalled = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!stalled) client.write(chunk);
    });
    for (const s of [client, upstream]) {
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    stall: () => {
      stalled = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!REDIS_URL)('redis rate-limit store', () => {
  const url = REDIS_URL ?? '';
  let redis: Redis;
  let prefix: string;

  beforeAll(async () => {
    redis = connect(url);
    await ready(redis);
  });

  afterEach(async () => {
    await deleteKeys(redis, prefix);
  });

  afterAll(() => {
    redis.disconnect();
  });

  const fresh = () => {
    prefix = `composure:test:rl:${randomUUID()}:`;
    return prefix;
  };

  it('admits exactly 100 of 1000 concurrent decisions on a bucket of 100', async () => {
    const errors: unknown[] = [];
    const store = createRedisRateLimitStore({
      redis,
      prefix: fresh(),
      // Generous: this is about the script's atomicity, not the fallback.
      timeoutMs: 5_000,
      fallback: createMemoryRateLimitStore(),
      onError: (err) => errors.push(err),
    });
    const bucket: BucketPlan = { burst: 100, perSecond: 0.01, name: 'default' };
    const decisions = await Promise.all(Array.from({ length: 1000 }, () => store.take('shared', bucket)));
    expect(errors).toEqual([]);
    expect(decisions.filter((d) => d.allowed)).toHaveLength(100);
  });

  it('counts down like the memory store and rejects with the wait for a token', async () => {
    const store = createRedisRateLimitStore({ redis, prefix: fresh(), fallback: createMemoryRateLimitStore() });
    const decisions: RateLimitDecision[] = [];
    for (let i = 0; i < 6; i++) decisions.push(await store.take('k', plan));
    expect(decisions.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    const rejected = decisions[5];
    expect(rejected).toMatchObject({ allowed: false, remaining: 0, limit: 5 });
    expect(rejected?.retryAfterMs).toBeGreaterThan(0);
    expect(rejected?.retryAfterMs).toBeLessThanOrEqual(50);
  });

  it('admits a retry made retryAfterMs later', async () => {
    const store = createRedisRateLimitStore({ redis, prefix: fresh(), fallback: createMemoryRateLimitStore() });
    const slow: BucketPlan = { burst: 2, perSecond: 5, name: 'slow' };
    await store.take('k', slow);
    await store.take('k', slow);
    const rejected = await store.take('k', slow);
    expect(rejected.allowed).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, rejected.retryAfterMs));
    expect((await store.take('k', slow)).allowed).toBe(true);
  });

  it('keeps tokens and timestamp in a hash that expires when the bucket would be full', async () => {
    const store = createRedisRateLimitStore({ redis, prefix: fresh(), fallback: createMemoryRateLimitStore() });
    const decision = await store.take('k', plan, 3);
    const state = await redis.hgetall(`${prefix}k`);
    expect(Number(state.t)).toBeCloseTo(2, 1);
    expect(Number(state.u)).toBeGreaterThan(0);
    const ttl = await redis.pttl(`${prefix}k`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(decision.resetMs);
    expect(decision.resetMs).toBeLessThanOrEqual(150);
  });

  it('never admits a cost above burst and stores nothing for it', async () => {
    const store = createRedisRateLimitStore({ redis, prefix: fresh(), fallback: createMemoryRateLimitStore() });
    expect(await store.take('k', plan, 6)).toEqual({ allowed: false, remaining: 5, retryAfterMs: 250, resetMs: 0, limit: 5 });
    expect(await redis.exists(`${prefix}k`)).toBe(0);
  });

  it('shares one bucket between instances on separate connections', async () => {
    const other = connect(url);
    try {
      await ready(other);
      const p = fresh();
      const bucket: BucketPlan = { burst: 10, perSecond: 0.01, name: 'default' };
      const a = createRedisRateLimitStore({ redis, prefix: p, fallback: createMemoryRateLimitStore() });
      const b = createRedisRateLimitStore({ redis: other, prefix: p, fallback: createMemoryRateLimitStore() });
      let admitted = 0;
      for (let i = 0; i < 20; i++) if ((await (i % 2 === 0 ? a : b).take('k', bucket)).allowed) admitted++;
      expect(admitted).toBe(10);
    } finally {
      other.disconnect();
    }
  });

  it('answers from the local store at once when Redis is unreachable, never throwing', async () => {
    const dead = new Redis({ host: '127.0.0.1', port: 1, ...failFastRedisOptions });
    dead.on('error', () => {});
    try {
      const store = createRedisRateLimitStore({ redis: dead, prefix: fresh(), fallback: createMemoryRateLimitStore() });
      const started = performance.now();
      const decisions = await Promise.all(Array.from({ length: 7 }, () => store.take('k', plan)));
      expect(performance.now() - started).toBeLessThan(50);
      expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    } finally {
      dead.disconnect();
    }
  });

  it('answers from the local store within about the timeout when Redis stops replying', async () => {
    const proxy = await stallableProxy(new URL(url));
    const slowRedis = connect(proxy.url);
    try {
      await ready(slowRedis);
      const errors: unknown[] = [];
      const store = createRedisRateLimitStore({
        redis: slowRedis,
        prefix: fresh(),
        timeoutMs: 50,
        fallback: createMemoryRateLimitStore(),
        onError: (err) => errors.push(err),
      });
      expect((await store.take('k', plan)).remaining).toBe(4); // through Redis
      proxy.stall();
      const started = performance.now();
      const decision = await store.take('k', plan);
      const elapsed = performance.now() - started;
      expect(decision).toMatchObject({ allowed: true, remaining: 4 }); // the local bucket's first token
      expect(elapsed).toBeGreaterThanOrEqual(45);
      expect(elapsed).toBeLessThan(150);
      expect(errors[0]).toBeInstanceOf(RedisTimeoutError);
      await store.close();
    } finally {
      slowRedis.disconnect();
      await proxy.close();
    }
  });
});
