import net from 'node:net';
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Redis } from 'ioredis';
import { createMemoryRateLimitStore } from '../../../server/stores/memory-rate-limit.js';
import { createRedisRateLimitStore, failFastRedisOptions } from '../../../server/stores/redis-rate-limit.js';
import type { BucketPlan, RateLimitDecision } from '../../../server/stores/rate-limit-store.js';
import { deleteKeys } from '../../helpers/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('redis-rate-limit failure tests skipped: REDIS_URL is not set');

const plan: BucketPlan = { burst: 5, perSecond: 20, name: 'default' };

async function ready(redis: Redis): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    redis.once('ready', () => resolve());
    setTimeout(() => reject(new Error('Redis not ready within 2 s')), 2_000).unref();
  });
}

function connect(url: string, extra: Partial<typeof failFastRedisOptions & { lazyConnect: boolean }> = {}): Redis {
  const redis = new Redis(url, { ...failFastRedisOptions, ...extra });
  redis.on('error', () => {});
  return redis;
}

/**
 * A TCP proxy in front of the real Redis that can hold its replies back and
 * let them go later, or put another RESP reply in place of each one: a
 * server that answers late, or answers something else than the script does.
 */
async function replyProxy(target: URL) {
  let holding = false;
  let replacement: string | null = null;
  const held: { client: net.Socket; chunk: Buffer }[] = [];
  let onHeld = (): void => {};
  const sockets = new Set<net.Socket>();
  const send = (client: net.Socket, chunk: Buffer) => client.write(replacement ?? chunk);
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 6379), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!holding) return void send(client, chunk);
      held.push({ client, chunk });
      onHeld();
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
    hold: () => void (holding = true),
    /** Resolves once a reply is held back (Redis has answered, the client has not seen it). */
    replyHeld: () => new Promise<void>((resolve) => (held.length > 0 ? resolve() : (onHeld = resolve))),
    /** Each reply from now on is this RESP text instead (one command in flight at a time). */
    replaceWith: (resp: string | null) => void (replacement = resp),
    release: () => {
      holding = false;
      for (const { client, chunk } of held.splice(0)) send(client, chunk);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

describe.skipIf(!REDIS_URL)('redis rate-limit store when Redis misbehaves', () => {
  const url = REDIS_URL ?? '';
  let proxy: Awaited<ReturnType<typeof replyProxy>>;
  let redis: Redis;
  let prefix: string;
  let errors: unknown[];

  beforeAll(async () => {
    proxy = await replyProxy(new URL(url));
  });
  afterAll(async () => {
    await proxy.close();
  });
  afterEach(async () => {
    vi.useRealTimers();
    proxy.replaceWith(null);
    proxy.release();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  async function storeBehindProxy(timeoutMs: number) {
    redis = connect(proxy.url);
    await ready(redis);
    prefix = `composure:test:rl:${randomUUID()}:`;
    errors = [];
    const fallback = createMemoryRateLimitStore();
    const store = createRedisRateLimitStore({ redis, prefix, timeoutMs, fallback, onError: (err) => errors.push(err) });
    return { store, fallback };
  }

  /** A round trip on the same connection: every reply before it has been read. */
  const drained = () => redis.ping();

  it('answers from the local bucket at once when Redis replies with an error, without waiting for the timeout', async () => {
    const { store } = await storeBehindProxy(2_000);
    proxy.replaceWith('-ERR something broke\r\n');
    expect(await store.take('k', plan)).toMatchObject({ allowed: true, remaining: 4 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: 'ReplyError', message: 'ERR something broke' });
  });

  for (const [what, resp] of [
    ['not an array', ':1\r\n'],
    ['three numbers', '*3\r\n:1\r\n:4\r\n:0\r\n'],
    ['four values, one of them text', '*4\r\n:1\r\n:4\r\n$1\r\nx\r\n:50\r\n'],
  ] as const) {
    it(`answers from the local bucket when the script's reply is ${what}, and says so`, async () => {
      const { store } = await storeBehindProxy(2_000);
      proxy.replaceWith(resp);
      expect(await store.take('k', plan)).toEqual({ allowed: true, remaining: 4, retryAfterMs: 0, resetMs: 50, limit: 5 });
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(TypeError);
      expect((errors[0] as Error).message).toMatch(/^unexpected rate-limit script reply: /);
    });
  }

  it('names the timeout it gave up after', async () => {
    const { store } = await storeBehindProxy(50);
    proxy.hold();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const decision = Promise.resolve(store.take('k', plan));
    await vi.advanceTimersByTimeAsync(50);
    expect(await decision).toMatchObject({ allowed: true, remaining: 4 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ name: 'RedisTimeoutError', message: 'Redis did not answer the rate-limit script within 50 ms' });
  });

  for (const [what, late] of [
    ['an error', '-ERR late\r\n'],
    ['a malformed reply', '*3\r\n:1\r\n:4\r\n:0\r\n'],
  ] as const) {
    it(`takes one local token per decision, not a second one when ${what} arrives after the timeout`, async () => {
      const { store, fallback } = await storeBehindProxy(50);
      proxy.hold();
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const decision = Promise.resolve(store.take('k', plan));
      await vi.advanceTimersByTimeAsync(50);
      expect(await decision).toMatchObject({ allowed: true, remaining: 4 });
      vi.useRealTimers();
      await proxy.replyHeld();
      proxy.replaceWith(late);
      proxy.release();
      proxy.replaceWith(null);
      await drained();
      expect(errors).toHaveLength(1);
      expect(fallback.take('k', plan)).toMatchObject({ remaining: 3 });
    });
  }

  it('waits in close() for a decision still in flight, and no longer than its timeout', async () => {
    const { store } = await storeBehindProxy(50);
    proxy.hold();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let decided: RateLimitDecision | undefined;
    void Promise.resolve(store.take('k', plan)).then((d) => (decided = d));
    let closed = false;
    void store.close().then(() => (closed = true));
    await vi.advanceTimersByTimeAsync(49);
    expect(closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(decided).toBeDefined();
    expect(closed).toBe(true);
  });
});

describe.skipIf(!REDIS_URL)('redis rate-limit store: connection states and options', () => {
  const url = REDIS_URL ?? '';
  const opened: Redis[] = [];
  afterEach(() => {
    for (const r of opened.splice(0)) r.disconnect();
  });
  const make = (redis: Redis, timeoutMs?: number) =>
    createRedisRateLimitStore({
      redis,
      prefix: `composure:test:rl:${randomUUID()}:`,
      fallback: createMemoryRateLimitStore(),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });

  it('starts a lazy client on its first take, answering that one locally, and goes through Redis once ready', async () => {
    const redis = connect(url, { lazyConnect: true });
    opened.push(redis);
    const store = make(redis);
    expect(redis.status).toBe('wait');
    const first = store.take('k', plan);
    expect(first).not.toBeInstanceOf(Promise);
    await ready(redis);
    expect(store.take('k', plan)).toBeInstanceOf(Promise);
  });

  it('leaves a client the caller disconnected alone', async () => {
    const redis = connect(url);
    opened.push(redis);
    await ready(redis);
    const ended = new Promise((resolve) => redis.once('end', resolve));
    redis.disconnect();
    await ended;
    expect(redis.status).toBe('end');
    const store = make(redis);
    expect(store.take('k', plan)).toMatchObject({ allowed: true, remaining: 4 });
    expect(redis.status).toBe('end');
  });

  it('refuses a timeout that is not a positive finite number of milliseconds', () => {
    const redis = connect(url, { lazyConnect: true });
    opened.push(redis);
    for (const timeoutMs of [0, -1, Number.POSITIVE_INFINITY, Number.NaN]) {
      expect(() => make(redis, timeoutMs), String(timeoutMs)).toThrow(
        new RangeError(`timeoutMs must be a positive finite number, got ${timeoutMs}`),
      );
    }
    expect(() => make(redis, 0.5)).not.toThrow();
  });
});
