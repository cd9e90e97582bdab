import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('rate limits over HTTP', () => {
  it('counts the RateLimit headers down, then answers 429 with Retry-After', async () => {
    server = await startTestServer({ RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_SECOND: '0.5' });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await server.call('users.byId', { input: { id: 1 } });
      expect(res.status).toBe(200);
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=3;w=6');
      expect(res.headers.get('retry-after')).toBeNull();
      remaining.push(res.headers.get('ratelimit') ?? '');
    }
    expect(remaining.map((h) => /r=(\d+)/.exec(h)?.[1])).toEqual(['2', '1', '0']);
    const limited = await server.call('users.byId', { input: { id: 1 } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(limited.headers.get('cache-control')).toBe('no-store');
    expect(limited.headers.get('ratelimit')).toBe('"default";r=0;t=2');
    expect(limited.body.error?.data).toMatchObject({ code: 'TOO_MANY_REQUESTS', httpStatus: 429, reason: 'rate_limited' });
    const retryAfterMs = limited.body.error?.data.retryAfterMs as number;
    expect(retryAfterMs).toBeGreaterThan(1000);
    expect(retryAfterMs).toBeLessThanOrEqual(2000);
  });

  it('charges stats.summary more than one token', async () => {
    server = await startTestServer({ RATE_LIMIT_BURST: '10', RATE_LIMIT_PER_SECOND: '0.1' });
    const res = await server.call('stats.summary');
    expect(res.status).toBe(200);
    expect(res.headers.get('ratelimit')).toMatch(/r=5;/);
  });

  it('leaves bob unaffected when alice is limited', async () => {
    server = await startTestServer({ RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_SECOND: '0.1' });
    for (let i = 0; i < 3; i++) await server.call('users.byId', { input: { id: 1 } });
    expect((await server.call('users.byId', { input: { id: 1 } })).status).toBe(429);
    const bob = await server.call('users.list', { key: 'demo-bob' });
    expect(bob.status).toBe(200);
  });

  it('admits exactly the burst out of many concurrent requests', async () => {
    server = await startTestServer({ RATE_LIMIT_BURST: '20', RATE_LIMIT_PER_SECOND: '0.01' });
    const s = server;
    const results = await Promise.all(Array.from({ length: 50 }, () => s.call('users.byId', { input: { id: 1 } })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((st) => st === 200)).toHaveLength(20);
    expect(statuses.filter((st) => st === 429)).toHaveLength(30);
  });

  it('limits failed authentication per client address, and still serves a valid key from it', async () => {
    server = await startTestServer({ AUTH_FAILURE_BURST: '3', AUTH_FAILURE_PER_SECOND: '0.1' });
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push(await server.call('users.list', { key: `guess-${i}` }));
    expect(answers.map((a) => a.status)).toEqual([401, 401, 401, 429, 429]);
    expect(Number(answers[4]?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The key is looked at first: only failures are counted, and a valid key is never refused.
    expect((await server.call('users.list')).status).toBe(200);
  });

  it('carries the RateLimit headers on error answers too: 404, 400 and 422 each take their token', async () => {
    server = await startTestServer({ RATE_LIMIT_BURST: '10', RATE_LIMIT_PER_SECOND: '0.1' });
    const notFound = await server.call('users.byId', { input: { id: 999_999 } });
    const invalid = await server.call('users.byId', { input: { id: 'one' } });
    const payment = { userId: 1, amountCents: 100, currency: 'EUR' };
    const post = (input: unknown) => server!.call('payments.create', { method: 'POST', input, headers: { 'idempotency-key': 'rl-422' } });
    const first = await post(payment);
    const reused = await post({ ...payment, amountCents: 200 });
    expect([notFound.status, invalid.status, first.status, reused.status]).toEqual([404, 400, 200, 422]);
    for (const res of [notFound, invalid, reused]) {
      expect(res.headers.get('ratelimit-policy')).toBe('"default";q=10;w=100');
      expect(res.headers.get('retry-after')).toBeNull();
    }
    expect([notFound, invalid, first, reused].map((r) => /r=(\d+)/.exec(r.headers.get('ratelimit') ?? '')?.[1])).toEqual(['9', '8', '7', '6']);
  });

  it('sends no 429 and no RateLimit headers with RATE_LIMIT_ENABLED=false, on every path', async () => {
    server = await startTestServer({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_SECOND: '0.01' });
    const s = server;
    const payment = { userId: 1, amountCents: 100, currency: 'EUR' };
    const results = [
      // The adapter, then the cache fast path for the same query.
      ...(await Promise.all([1, 2, 3].map(() => s.call('users.byId', { input: { id: 1 } })))),
      await s.call('users.byId', { input: { id: 1 } }),
      await s.call('stats.summary'),
      // A keyed write, then its replay through the replay fast path.
      await s.call('payments.create', { method: 'POST', input: payment, headers: { 'idempotency-key': 'rl-off' } }),
      await s.call('payments.create', { method: 'POST', input: payment, headers: { 'idempotency-key': 'rl-off' } }),
    ];
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200, 200]);
    expect(results.at(-1)?.headers.get('idempotent-replayed')).toBe('true');
    for (const r of results) {
      expect(r.headers.get('ratelimit')).toBeNull();
      expect(r.headers.get('ratelimit-policy')).toBeNull();
    }
  });
});
