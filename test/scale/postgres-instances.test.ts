import { randomUUID } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../helpers/server.js';
import { killAllServers, startServer, type ServerProcess } from '../helpers/server-process.js';
import { createTestPostgres, postgresSkipReason, type TestPostgres } from '../helpers/postgres.js';
import { deleteKeysAt } from '../helpers/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL;
const skip = postgresSkipReason('two instances on PostgreSQL') ?? (REDIS_URL ? null : 'two instances on PostgreSQL: skipped, REDIS_URL is not set');
if (skip && REDIS_URL === undefined && process.env.TEST_DATABASE_URL) console.warn(skip);

/**
 * A rates provider the test holds: every call waits until `release()`,
 * so "a request is still running" is an event, not a guessed delay.
 */
function heldProvider() {
  const waiting: ServerResponse[] = [];
  let calls = 0;
  let holding = false;
  const answer = (res: ServerResponse) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ base: 'USD', rates: { EUR: 0.92 }, asOf: new Date().toISOString() }));
  };
  const server: Server = createServer((_req, res) => {
    calls++;
    if (holding) waiting.push(res);
    else answer(res);
  });
  return {
    server,
    get calls() {
      return calls;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const res of waiting.splice(0)) answer(res);
    },
    async until(n: number) {
      for (let i = 0; i < 1000 && calls < n; i++) await new Promise((r) => setTimeout(r, 10));
      expect(calls).toBeGreaterThanOrEqual(n);
    },
  };
}

/*
 * Two server processes as if on two machines: each in its own temporary
 * directory, sharing nothing but one PostgreSQL database and one Redis.
 */
describe.skipIf(skip !== null)('two instances sharing only PostgreSQL and Redis', () => {
  let pgdb: TestPostgres;
  const provider = heldProvider();
  const prefix = `composure-pg-${randomUUID()}:`;
  let a: ServerProcess;
  let b: ServerProcess;
  let ratesUrl = '';

  const start = () =>
    startServer({
      env: {
        DATABASE_URL: pgdb.url,
        REDIS_URL: REDIS_URL ?? '',
        REDIS_PREFIX: prefix,
        SEED: 'true',
        SEED_USERS: '50',
        RATES_URL: ratesUrl,
        RATES_TTL_MS: '0',
        RATES_TIMEOUT_MS: '20000',
        // A big burst and a slow refill: every call both instances take shows in the shared bucket.
        RATE_LIMIT_BURST: '5000',
        RATE_LIMIT_PER_SECOND: '1',
      },
    });

  beforeAll(async () => {
    pgdb = await createTestPostgres();
    await new Promise<void>((resolve) => provider.server.listen(0, '127.0.0.1', resolve));
    ratesUrl = `http://127.0.0.1:${(provider.server.address() as AddressInfo).port}/rates`;
    // Both start at the same moment: the migrations and the seed run once.
    [a, b] = await Promise.all([start(), start()]);
  }, 60_000);
  afterAll(async () => {
    provider.release();
    await killAllServers();
    await new Promise((r) => provider.server.close(r));
    if (REDIS_URL) await deleteKeysAt(REDIS_URL, prefix);
    await pgdb?.drop();
  });

  const pay = (server: ServerProcess, key: string, amountCents: number) =>
    call(server.url, 'payments.create', {
      method: 'POST',
      input: { userId: 1, amountCents, currency: 'EUR' },
      headers: { 'idempotency-key': key },
    });
  const paymentsOf = async (amountCents: number) =>
    Number((await pgdb.query<{ n: string }>('SELECT count(*) AS n FROM payments WHERE amount_cents = $1', [amountCents]))[0]?.n);

  it('seeded the demo data once though both instances started together', async () => {
    expect(await pgdb.query('SELECT name FROM tenants ORDER BY id')).toEqual([{ name: 'alice' }, { name: 'bob' }]);
    expect(await pgdb.query('SELECT count(*)::int AS n FROM users')).toEqual([{ n: 55 }]);
  });

  it('answers 409 at once on the other instance while a keyed request still runs, without running its handler, then replays', async () => {
    provider.hold();
    const key = `dup-${randomUUID()}`;
    const before = provider.calls;
    const first = pay(a, key, 91_002);
    await provider.until(before + 1);
    const second = await pay(b, key, 91_002);
    expect(second.status).toBe(409);
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.body.error?.data).toMatchObject({ reason: 'idempotency_in_flight' });
    expect(provider.calls).toBe(before + 1);
    provider.release();
    const done = await first;
    expect(done.status).toBe(200);
    const replay = await pay(b, key, 91_002);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(done.text);
    expect(await paymentsOf(91_002)).toBe(1);
  });

  it('turns a storm of 40 requests with one key, split over both instances, into one payment', async () => {
    const key = `storm-${randomUUID()}`;
    const deadline = Date.now() + 30_000;
    const caller = async (n: number) => {
      const server = n % 2 === 0 ? a : b;
      for (;;) {
        const res = await pay(server, key, 91_003);
        if (res.status !== 409 || Date.now() > deadline) return res;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => caller(n)));
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 40 }, () => 200));
    expect(new Set(answers.map((r) => r.text)).size).toBe(1);
    expect(answers.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(await paymentsOf(91_003)).toBe(1);
  });

  it('lets the other instance serve the retry at once when the first is SIGKILLed mid-request', async () => {
    provider.hold();
    const key = `kill-${randomUUID()}`;
    const before = provider.calls;
    const lost = pay(a, key, 91_004).catch(() => null);
    await provider.until(before + 1);
    await a.kill();
    expect(await lost).toBeNull();
    provider.release();
    // The dead instance's connection dropped and its transaction with it: no key is held.
    const retry = await pay(b, key, 91_004);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await paymentsOf(91_004)).toBe(1);
    a = await start();
  });

  it('still shares rate limits and invalidation through Redis', async () => {
    // Invalidation: a user created on A is in B's next list, though B had the list cached.
    const list = async (server: ServerProcess) =>
      (await call(server.url, 'users.list', { input: { limit: 100 } })).body.result?.data as { data: Array<{ email: string }> };
    await list(b);
    const email = `pg-${randomUUID()}@alice.example`;
    const created = await call(a.url, 'users.create', { method: 'POST', input: { name: 'Both', email } });
    expect(created.status).toBe(200);
    let seen = false;
    for (let i = 0; i < 100 && !seen; i++) {
      seen = (await list(b)).data.some((u) => u.email === email);
      if (!seen) await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toBe(true);
    // Limits: one bucket per key across instances: B's answer counts A's call.
    const remaining = async (server: ServerProcess) =>
      Number(/r=(\d+)/.exec((await call(server.url, 'users.byId', { input: { id: 1 } })).headers.get('ratelimit') ?? '')?.[1]);
    const r1 = await remaining(a);
    const r2 = await remaining(b);
    expect(r2).toBeLessThan(r1);
  });

  it('leaves no advisory lock and no idle transaction behind', async () => {
    provider.release();
    expect(await pgdb.leftovers()).toEqual({ advisoryLocks: 0, idleInTransaction: 0 });
  });
});
