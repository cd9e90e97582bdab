import { afterEach, describe, expect, it, vi } from 'vitest';
import { pino } from 'pino';
import { createMemoryBus, type EventBus } from '../../../server/events/bus.js';
import { ENTRY_OVERHEAD_BYTES, createQueryCache, entrySize, type CachePolicy, type QueryCache } from '../../../server/cache/index.js';
import { resolvePolicy } from '../../../server/cache/policy.js';

const log = pino({ level: 'silent' });
const opened: QueryCache[] = [];

function makeCache(config: { maxBytes?: number; maxEntries?: number } = {}): { cache: QueryCache; bus: EventBus } {
  const bus = createMemoryBus();
  const cache = createQueryCache({
    config: {
      CACHE_MAX_BYTES: config.maxBytes ?? 1_000_000,
      CACHE_MAX_ENTRIES: config.maxEntries ?? 1000,
      RATES_TTL_MS: 30_000,
      RATES_STALE_MS: 3_600_000,
    },
    bus,
    log,
  });
  opened.push(cache);
  return { cache, bus };
}
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

const policy = (over: Partial<CachePolicy> = {}): CachePolicy => ({
  path: 'users.list',
  ttlMs: 60_000,
  tags: ['users'],
  scope: 'tenant',
  cacheControl: 'private, no-cache',
  cost: 1,
  acrossInstances: false,
  ...over,
});

function keyOf(cache: QueryCache, p: CachePolicy, tenantId: number, input: unknown): string {
  const key = cache.keyFor(p, tenantId, input);
  if (key === null) throw new Error('expected a key');
  return key;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('query cache: keys', () => {
  it('keys by procedure, tenant and canonical input', () => {
    const { cache } = makeCache();
    const p = policy();
    expect(keyOf(cache, p, 1, { b: 1, a: 2 })).toBe(keyOf(cache, p, 1, { a: 2, b: 1 }));
    expect(keyOf(cache, p, 1, { a: 1 })).not.toBe(keyOf(cache, p, 2, { a: 1 }));
    expect(keyOf(cache, p, 1, { a: 1 })).not.toBe(keyOf(cache, policy({ path: 'users.byId' }), 1, { a: 1 }));
  });

  it('gives no key to an input nested too deep, rather than overflowing the stack', () => {
    const { cache } = makeCache();
    const deep: unknown = JSON.parse(`${'['.repeat(20_000)}${']'.repeat(20_000)}`);
    expect(cache.keyFor(policy(), 1, deep)).toBeNull();
  });

  it('keys a 16 KB input in as few bytes as an empty one', () => {
    const { cache } = makeCache();
    const long = keyOf(cache, policy(), 1, { limit: 1, pad: 'x'.repeat(16_384), list: Array.from({ length: 500 }, (_, i) => i) });
    expect(long.length).toBe(keyOf(cache, policy(), 1, {}).length);
    expect(long.length).toBeLessThan(100);
  });

  it('gives no key to an input holding a number JSON cannot write, so 1e999 never shares null\'s entry', () => {
    const { cache } = makeCache();
    const infinite: unknown = JSON.parse('{"cursor":1e999}');
    expect(cache.keyFor(policy(), 1, infinite)).toBeNull();
    expect(cache.keyFor(policy(), 1, JSON.parse('{"cursor":-1e999}'))).toBeNull();
    expect(keyOf(cache, policy(), 1, { cursor: null })).toBeTypeOf('string');
  });

  it('gives every tenant the same key for shared data', () => {
    const { cache } = makeCache();
    const shared = policy({ path: 'rates.latest', scope: 'shared' });
    expect(keyOf(cache, shared, 1, {})).toBe(keyOf(cache, shared, 2, {}));
  });
});

describe('query cache: load', () => {
  it('stores the serialized body, a strong ETag and storedAt', async () => {
    const { cache } = makeCache();
    const key = keyOf(cache, policy(), 1, {});
    const outcome = await cache.load(key, policy(), 1, async () => ({ n: 1 }));
    expect(outcome.kind).toBe('stored');
    const entry = cache.get(key);
    expect(entry?.body.toString()).toBe('{"result":{"data":{"n":1}}}');
    expect(entry?.etag).toMatch(/^"[\w-]+"$/);
    expect(entry?.storedAt).toBeLessThanOrEqual(Date.now());
  });

  it('runs one computation for 100 concurrent misses of one key', async () => {
    const { cache } = makeCache();
    const key = keyOf(cache, policy(), 1, {});
    const gate = deferred<unknown>();
    let computations = 0;
    const loads = Array.from({ length: 100 }, () =>
      cache.load(key, policy(), 1, () => {
        computations++;
        return gate.promise;
      }),
    );
    gate.resolve({ n: 1 });
    const outcomes = await Promise.all(loads);
    expect(computations).toBe(1);
    expect(outcomes.filter((o) => o.kind === 'stored')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'collapsed')).toHaveLength(99);
    expect(cache.stats()).toMatchObject({ misses: 1, collapsed: 99, stored: 1 });
  });

  it('shares an error with the requests that waited, and stores nothing', async () => {
    const { cache } = makeCache();
    const key = keyOf(cache, policy(), 1, {});
    const gate = deferred<unknown>();
    const first = cache.load(key, policy(), 1, () => gate.promise);
    const second = cache.load(key, policy(), 1, () => Promise.resolve('not run'));
    gate.reject(new Error('boom'));
    await expect(first).rejects.toThrow('boom');
    await expect(second).rejects.toThrow('boom');
    expect(cache.get(key)).toBeUndefined();
    // The failed flight is gone: the next miss computes again.
    expect((await cache.load(key, policy(), 1, async () => 1)).kind).toBe('stored');
  });

  it('does not store a stale fallback or a partial answer', async () => {
    const { cache } = makeCache();
    const staleKey = keyOf(cache, policy(), 1, { s: 1 });
    const stale = await cache.load(staleKey, policy(), 1, async (hints) => {
      hints.stale = true;
      hints.storedAt = Date.now() - 90_000;
      return { n: 1 };
    });
    expect(stale.kind).toBe('stale');
    expect(stale.entry.storedAt).toBeLessThan(Date.now() - 89_000);
    const partialKey = keyOf(cache, policy(), 1, { p: 1 });
    expect((await cache.load(partialKey, policy(), 1, async () => ({ data: [], degraded: ['rates'] }))).kind).toBe('not-stored');
    expect(cache.get(staleKey)).toBeUndefined();
    expect(cache.get(partialKey)).toBeUndefined();
  });

  it('counts the lifetime of pre-aged data from when it was produced', async () => {
    // The clock is faked, timers too (lru-cache memoizes its clock for a millisecond on a timer).
    vi.useFakeTimers({ toFake: ['Date', 'setTimeout', 'clearTimeout'], now: Date.UTC(2026, 5, 1) });
    try {
      const { cache } = makeCache();
      const p = policy({ ttlMs: 1000 });
      const key = keyOf(cache, p, 1, {});
      const expired = await cache.load(key, p, 1, async (hints) => {
        hints.storedAt = Date.now() - 1500;
        return 1;
      });
      expect(expired.kind).toBe('not-stored');
      await cache.load(key, p, 1, async (hints) => {
        hints.storedAt = Date.now() - 700;
        return 1;
      });
      // Produced 700 ms ago with a TTL of 1000 ms: 300 ms left, not 1000.
      expect(cache.get(key)).toBeDefined();
      vi.advanceTimersByTime(299);
      expect(cache.get(key)).toBeDefined();
      vi.advanceTimersByTime(2);
      expect(cache.get(key)).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('query cache: bounds', () => {
  it('keeps bodies, keys and per-entry bookkeeping under CACHE_MAX_BYTES, evicting the least recently used', async () => {
    const value = 'x'.repeat(70); // about 100 bytes serialized
    const size = entrySize(keyOf(makeCache().cache, policy(), 1, { i: 0 }), Buffer.from(`{"result":{"data":"${value}"}}`));
    expect(size).toBeGreaterThan(ENTRY_OVERHEAD_BYTES + 100);
    const { cache } = makeCache({ maxBytes: 3 * size + 10 });
    for (let i = 0; i < 10; i++) await cache.load(keyOf(cache, policy(), 1, { i }), policy(), 1, async () => value);
    const { bytes, entries } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(3 * size + 10);
    expect(entries).toBe(3);
    expect(cache.get(keyOf(cache, policy(), 1, { i: 9 }))).toBeDefined();
    expect(cache.get(keyOf(cache, policy(), 1, { i: 0 }))).toBeUndefined();
  });

  it('does not store an answer larger than the whole cache', async () => {
    const { cache } = makeCache({ maxBytes: ENTRY_OVERHEAD_BYTES + 150 });
    const outcome = await cache.load(keyOf(cache, policy(), 1, {}), policy(), 1, async () => 'y'.repeat(100));
    expect(outcome.kind).toBe('not-stored');
    expect(cache.stats().entries).toBe(0);
  });

  it('keeps at most CACHE_MAX_ENTRIES entries', async () => {
    const { cache } = makeCache({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) await cache.load(keyOf(cache, policy(), 1, { i }), policy(), 1, async () => i);
    expect(cache.stats().entries).toBe(3);
  });

  it('drops expired entries without waiting for a read of them', async () => {
    vi.useFakeTimers();
    try {
      const { cache } = makeCache();
      const short = policy({ ttlMs: 1000 });
      for (let i = 0; i < 5; i++) await cache.load(keyOf(cache, short, 1, { i }), short, 1, async () => i);
      expect(cache.stats().entries).toBe(5);
      await vi.advanceTimersByTimeAsync(60_000);
      expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
    } finally {
      vi.useRealTimers();
    }
  });

  it('stores nothing with CACHE_MAX_BYTES=0', async () => {
    const { cache } = makeCache({ maxBytes: 0 });
    expect((await cache.load(keyOf(cache, policy(), 1, {}), policy(), 1, async () => 1)).kind).toBe('not-stored');
  });
});

describe('query cache: invalidation', () => {
  const users = policy({ path: 'users.list', tags: ['users'] });
  const stats = policy({ path: 'stats.summary', tags: ['users', 'payments', 'stats'] });
  const payments = policy({ path: 'payments.list', tags: ['payments'] });

  async function fill(cache: QueryCache, tenantId: number) {
    for (const p of [users, stats, payments]) await cache.load(keyOf(cache, p, tenantId, {}), p, tenantId, async () => p.path);
  }
  const cached = (cache: QueryCache, p: CachePolicy, tenantId: number) => cache.get(keyOf(cache, p, tenantId, {})) !== undefined;

  it("user.created evicts the tenant's users and stats, nothing else", async () => {
    const { cache, bus } = makeCache();
    await fill(cache, 1);
    await fill(cache, 2);
    bus.publish({ type: 'user.created', tenantId: 1, id: 9 });
    expect([cached(cache, users, 1), cached(cache, stats, 1), cached(cache, payments, 1)]).toEqual([false, false, true]);
    expect([cached(cache, users, 2), cached(cache, stats, 2), cached(cache, payments, 2)]).toEqual([true, true, true]);
  });

  it("payment.created evicts the tenant's payments and stats", async () => {
    const { cache, bus } = makeCache();
    await fill(cache, 1);
    bus.publish({ type: 'payment.created', tenantId: 1, id: 9, userId: 1 });
    expect([cached(cache, users, 1), cached(cache, stats, 1), cached(cache, payments, 1)]).toEqual([true, false, false]);
  });

  it('bus.resync evicts everything', async () => {
    const { cache, bus } = makeCache();
    await fill(cache, 1);
    bus.publish({ type: 'bus.resync' });
    expect(cache.stats().entries).toBe(0);
  });

  it('does not store an answer computed across an invalidation of its tags', async () => {
    const { cache, bus } = makeCache();
    const key = keyOf(cache, users, 1, {});
    const gate = deferred<unknown>();
    const before = cache.load(key, users, 1, () => gate.promise);
    bus.publish({ type: 'user.created', tenantId: 1, id: 9 });
    // A request after the write must not join the computation that began before it.
    const after = cache.load(key, users, 1, async () => 'new');
    gate.resolve('old');
    expect((await before).kind).toBe('not-stored');
    expect(await after).toMatchObject({ kind: 'stored', data: 'new' });
    expect(cache.get(key)?.body.toString()).toBe('{"result":{"data":"new"}}');
  });

  it('does not store an answer computed across a resync', async () => {
    const { cache, bus } = makeCache();
    const key = keyOf(cache, users, 1, {});
    const gate = deferred<unknown>();
    const before = cache.load(key, users, 1, () => gate.promise);
    bus.publish({ type: 'bus.resync' });
    gate.resolve('old');
    expect((await before).kind).toBe('not-stored');
  });

  it('counts as invalidated only the entries still stored', async () => {
    const { cache, bus } = makeCache({ maxEntries: 1 });
    await cache.load(keyOf(cache, users, 1, { a: 1 }), users, 1, async () => 1);
    await cache.load(keyOf(cache, users, 1, { a: 2 }), users, 1, async () => 2);
    bus.publish({ type: 'user.created', tenantId: 1, id: 9 });
    expect(cache.stats()).toMatchObject({ entries: 0, invalidated: 1 });
  });
});

describe('cache policy from meta', () => {
  const config = { ratesTtlMs: 30_000, ratesStaleMs: 3_600_000 };
  const proc = (meta: unknown, type = 'query') => ({ _def: { type, meta } });

  it('marks tenant data private and always revalidated', () => {
    expect(resolvePolicy('users.list', proc({ cacheTtlMs: 60_000, cacheTags: ['users'] }), config)).toMatchObject({
      ttlMs: 60_000,
      scope: 'tenant',
      cacheControl: 'private, no-cache',
      cost: 1,
    });
  });

  it("resolves cacheTtlMs 'rates' to RATES_TTL_MS and adds stale-if-error", () => {
    expect(resolvePolicy('rates.latest', proc({ cacheTtlMs: 'rates', cacheScope: 'shared' }), config)).toMatchObject({
      ttlMs: 30_000,
      cacheControl: 'private, max-age=30, stale-if-error=3600',
    });
  });

  it('caches neither mutations nor queries without cacheTtlMs', () => {
    expect(resolvePolicy('users.create', proc({ cacheTtlMs: 1000 }, 'mutation'), config)).toBeNull();
    expect(resolvePolicy('users.list', proc({}), config)).toBeNull();
  });

  it('throws at start on a bad meta, naming the procedure', () => {
    expect(() => resolvePolicy('x.y', proc({ cacheTtlMs: -1 }), config)).toThrow(/x\.y: meta cacheTtlMs/);
  });
});

describe('CACHE_ENABLED=false', () => {
  it('gives no query a policy, so nothing is cached on either path', async () => {
    const cache = createQueryCache({
      config: { CACHE_ENABLED: false, CACHE_MAX_BYTES: 1000, CACHE_MAX_ENTRIES: 10, RATES_TTL_MS: 1000, RATES_STALE_MS: 1000 },
      bus: createMemoryBus(),
      log,
      procedures: { 'users.list': Object.assign(() => undefined, { _def: { type: 'query', meta: { cacheTtlMs: 1000 } } }) },
    });
    opened.push(cache);
    expect(cache.policies.size).toBe(0);
  });
});
