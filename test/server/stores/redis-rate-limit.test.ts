import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { createMemoryRateLimitStore } from '../../../server/stores/memory-rate-limit.js';
import {
  RedisTimeoutError,
  createRedisRateLimitStore,
  failFastRedisOptions,
} from '../../../server/stores/redis-rate-limit.js';
import type { BucketPlan, RateLimitDecision } from '../../../server/stores/rate-limit-store.js';
import { deleteKeys } from '../../helpers/redis-keys.js';
import { startTcpProxy } from '../../helpers/tcp-proxy.js';

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
    const store = createRedisRateLimitStore({ redis, prefix: fresh(), timeoutMs: 5_000, fallback: createMemoryRateLimitStore() });
    // One token per 100 s: the milliseconds between takes refill next to nothing.
    const slow: BucketPlan = { burst: 5, perSecond: 0.01, name: 'default' };
    const decisions: RateLimitDecision[] = [];
    for (let i = 0; i < 6; i++) decisions.push(await store.take('k', slow));
    expect(decisions.slice(0, 5).map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    const rejected = decisions[5];
    expect(rejected).toMatchObject({ allowed: false, remaining: 0, limit: 5 });
    // 100 000 ms for a whole token, less what refilled while the takes ran (exact values: the property below).
    expect(rejected?.retryAfterMs).toBeGreaterThan(90_000);
    expect(rejected?.retryAfterMs).toBeLessThanOrEqual(100_000);
  });

  it('admits a retry made retryAfterMs later', async () => {
    const store = createRedisRateLimitStore({ redis, prefix: fresh(), fallback: createMemoryRateLimitStore() });
    const slow: BucketPlan = { burst: 2, perSecond: 5, name: 'slow' };
    await store.take('k', slow);
    await store.take('k', slow);
    const rejected = await store.take('k', slow);
    expect(rejected.allowed).toBe(false);
    // Move the bucket's last update retryAfterMs into the past instead of sleeping.
    const updated = Number(await redis.hget(`${prefix}k`, 'u'));
    await redis.hset(`${prefix}k`, 'u', String(updated - rejected.retryAfterMs));
    expect((await store.take('k', slow)).allowed).toBe(true);
  });

  it('refills at the plan rate and decides exactly like the memory store, whatever the level, time gone by and cost', async () => {
    const store = createRedisRateLimitStore({ redis, prefix: fresh(), timeoutMs: 5_000, fallback: createMemoryRateLimitStore() });
    const caseArb = fc
      .record({
        burst: fc.integer({ min: 1, max: 20 }),
        perSecond: fc.double({ min: 0.1, max: 200, noNaN: true, noDefaultInfinity: true }),
        stored: fc.integer({ min: 0, max: 20 }),
        elapsedMs: fc.integer({ min: 0, max: 30_000 }),
        cost: fc.integer({ min: 1, max: 20 }),
      })
      .map((c) => ({ ...c, stored: Math.min(c.stored, c.burst), cost: Math.min(c.cost, c.burst) }));
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ burst, perSecond, stored, elapsedMs, cost }) => {
        const plan: BucketPlan = { burst, perSecond, name: 'p' };
        const key = randomUUID();
        // Redis's clock runs on during the round trips: the script sees elapsedMs plus at most `slack` ms.
        const started = performance.now();
        const [seconds, micros] = await redis.time();
        const redisNow = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
        await redis.hset(`${prefix}${key}`, { t: String(stored), u: String(redisNow - elapsedMs) });
        const got = await store.take(key, plan, cost);
        const slack = Math.ceil(performance.now() - started) + 2;
        const candidates = Array.from({ length: slack + 1 }, (_, extra) => {
          let clock = 0;
          const memory = createMemoryRateLimitStore({ now: () => clock });
          if (stored < burst) memory.take(key, plan, burst - stored);
          clock = elapsedMs + extra;
          return memory.take(key, plan, cost);
        });
        expect(candidates).toContainEqual(got);
      }),
      { numRuns: 60 },
    );
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
      // Answered synchronously: no round trip, no timer.
      const decisions = Array.from({ length: 7 }, () => store.take('k', plan));
      for (const d of decisions) expect(d).not.toBeInstanceOf(Promise);
      expect((decisions as RateLimitDecision[]).filter((d) => d.allowed)).toHaveLength(5);
    } finally {
      dead.disconnect();
    }
  });

  it('answers from the local store when the timeout fires and not before, when Redis stops replying', async () => {
    const target = new URL(url);
    const proxy = await startTcpProxy(Number(target.port || 6379), target.hostname);
    const slowRedis = connect(proxy.url('redis'));
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
      proxy.setMode('stall');
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      let decision: RateLimitDecision | undefined;
      void Promise.resolve(store.take('k', plan)).then((d) => (decision = d));
      await vi.advanceTimersByTimeAsync(49);
      expect(decision).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      expect(decision).toMatchObject({ allowed: true, remaining: 4 }); // the local bucket's first token
      expect(errors[0]).toBeInstanceOf(RedisTimeoutError);
      await store.close();
    } finally {
      vi.useRealTimers();
      slowRedis.disconnect();
      await proxy.close();
    }
  });
});
