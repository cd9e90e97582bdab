import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inputDigest } from '../../server/cache/input-digest.js';
import { chargeCacheHit } from '../../server/http/charge-cache-hit.js';
import { startTestServer, type CallResult, type TestServer } from '../helpers/server.js';

let server: TestServer;
beforeAll(async () => {
  // A fixed admission limit above the 100 concurrent misses below: their subject is single-flight, and on
  // PostgreSQL each waits on the one computation holding its slot, which the adaptive limit would shed as overload.
  server = await startTestServer({ SEED_USERS: '50', RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_SECOND: '10000', ADMISSION_LIMIT: '200' });
});
afterAll(() => server.close());

const status = (res: CallResult) => res.headers.get('cache-status');
const dataOf = <T>(res: CallResult) => res.body.result?.data as T;
async function tenantId(name: string): Promise<number> {
  const [row] = await server.services.database.query<{ id: number }>('SELECT id FROM tenants WHERE name = ?', [name]);
  return Number(row?.id);
}

describe('cache over HTTP', () => {
  it('answers a repeated GET from the cache, with the same bytes and ETag', async () => {
    const first = await server.call('users.list', { input: { limit: 3 } });
    const second = await server.call('users.list', { input: { limit: 3 } });
    expect(status(first)).toBe('composure; fwd=miss; stored');
    expect(status(second)).toBe('composure; hit');
    expect(second.text).toBe(first.text);
    expect(second.headers.get('etag')).toBe(first.headers.get('etag'));
    expect(first.headers.get('etag')).toMatch(/^"[\w-]+"$/);
    expect(second.headers.get('age')).toMatch(/^\d+$/);
    expect(first.headers.get('age')).toBeNull();
  });

  it('keys by canonical input: key order and TanStack direction make no new entry', async () => {
    await server.call('payments.list', { input: { limit: 4, userId: 2 } });
    const reordered = await server.call('payments.list', { input: { userId: 2, direction: 'forward', limit: 4 } });
    expect(status(reordered)).toBe('composure; hit');
  });

  it('marks tenant data private and revalidated on every use', async () => {
    const res = await server.call('stats.summary');
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
  });

  it('answers a matching If-None-Match with 304 and no body, by weak comparison', async () => {
    const first = await server.call('users.list', { input: { limit: 5 } });
    const etag = first.headers.get('etag') ?? '';
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await server.call('users.list', { input: { limit: 5 }, headers: { 'if-none-match': header } });
      expect(res.status).toBe(304);
      expect(res.text).toBe('');
      expect(res.headers.get('etag')).toBe(etag);
      expect(res.headers.get('cache-status')).toBe('composure; hit');
      expect(res.headers.get('cache-control')).toBe('private, no-cache');
      expect(res.headers.get('content-type')).toBeNull();
    }
    const other = await server.call('users.list', { input: { limit: 5 }, headers: { 'if-none-match': '"nope"' } });
    expect(other.status).toBe(200);
    expect(other.text).toBe(first.text);
  });

  it('answers 304 on a miss too when the recomputed bytes are unchanged', async () => {
    const first = await server.call('users.list', { input: { limit: 6 } });
    // An event evicts the entry without changing the data.
    server.services.bus.publish({ type: 'user.created', tenantId: await tenantId('alice'), id: 0 });
    const res = await server.call('users.list', { input: { limit: 6 }, headers: { 'if-none-match': first.headers.get('etag') ?? '' } });
    expect(res.status).toBe(304);
    expect(res.text).toBe('');
    expect(status(res)).toBe('composure; fwd=miss; stored');
    expect(res.headers.get('content-type')).toBeNull();
  });

  it("never shows one tenant another's cached answer", async () => {
    const alice = await server.call('users.list', { input: { limit: 7 } });
    const bob = await server.call('users.list', { input: { limit: 7 }, key: 'demo-bob' });
    expect(status(alice)).toMatch(/stored|hit/);
    expect(status(bob)).toBe('composure; fwd=miss; stored');
    const emails = dataOf<{ data: Array<{ email: string }> }>(bob).data.map((u) => u.email);
    expect(emails.length).toBeGreaterThan(0);
    expect(emails.every((e) => e.endsWith('@bob.example'))).toBe(true);
    expect(bob.text).not.toBe(alice.text);
  });

  it('shares the rates, which no tenant owns, between tenants', async () => {
    const alice = await server.call('rates.latest');
    const bob = await server.call('rates.latest', { key: 'demo-bob' });
    expect(status(bob)).toBe('composure; hit');
    expect(bob.text).toBe(alice.text);
    expect(bob.headers.get('cache-control')).toBe('private, max-age=30, stale-if-error=3600');
  });

  it('gives a batched GET no validator, no Cache-Status and no-store', async () => {
    await server.call('users.list', { input: { limit: 3 } });
    const input = encodeURIComponent(JSON.stringify({ 0: { limit: 3 }, 1: {} }));
    const res = await fetch(`${server.url}/trpc/users.list,stats.summary?batch=1&input=${input}`, {
      headers: { authorization: 'Bearer demo-alice' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('etag')).toBeNull();
    expect(res.headers.get('cache-status')).toBeNull();
    const body = (await res.json()) as Array<{ result: { data: unknown } }>;
    expect(body).toHaveLength(2);
  });

  it('never caches an error, and marks it no-store', async () => {
    const misses = server.services.cache.stats().misses;
    const a = await server.call('users.byId', { input: { id: 999_999 } });
    const b = await server.call('users.byId', { input: { id: 999_999 } });
    expect([a.status, b.status]).toEqual([404, 404]);
    expect(server.services.cache.stats().misses - misses).toBe(2);
    expect(a.headers.get('cache-control')).toBe('no-store');
    const invalid = await server.call('users.list', { input: { limit: 1000 } });
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('cache-control')).toBe('no-store');
    const unauthorized = await server.call('users.list', { input: { limit: 3 }, key: null });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an absurdly nested input with 400, uncached, on both paths', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const res = await fetch(`${server.url}/trpc/users.byId?input=${deep}`, { headers: { authorization: 'Bearer demo-alice' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('runs one computation for 100 concurrent misses', async () => {
    const { payments } = server.services;
    const original = payments.summary;
    let computations = 0;
    // Slow and asynchronous, so the requests overlap while it runs.
    payments.summary = ((tenant: number) => {
      computations++;
      return new Promise((resolve) => setTimeout(() => resolve(original(tenant)), 100));
    }) as unknown as typeof original;
    try {
      server.services.bus.publish({ type: 'payment.created', tenantId: await tenantId('alice'), id: 0, userId: 0 });
      const answers = await Promise.all(Array.from({ length: 100 }, () => server.call('stats.summary')));
      expect(computations).toBe(1);
      expect(answers.every((a) => a.status === 200 && a.text === answers[0]?.text)).toBe(true);
      const statuses = answers.map(status);
      expect(statuses.filter((s) => s === 'composure; fwd=miss; stored')).toHaveLength(1);
      expect(statuses.every((s) => /stored|collapsed|hit/.test(s ?? ''))).toBe(true);
    } finally {
      payments.summary = original;
    }
  });
});

describe('read-your-writes', () => {
  it('shows a created user in the very next list and stats', async () => {
    const before = await server.call('users.list', { input: { limit: 100 } });
    const statsBefore = dataOf<{ users: number }>(await server.call('stats.summary'));
    expect(status(await server.call('users.list', { input: { limit: 100 } }))).toBe('composure; hit');
    const created = await server.call('users.create', { method: 'POST', input: { name: 'Fresh', email: 'fresh@example.com' } });
    expect(created.status).toBe(200);
    const after = await server.call('users.list', { input: { limit: 100 } });
    expect(status(after)).toBe('composure; fwd=miss; stored');
    expect(after.text).not.toBe(before.text);
    expect(dataOf<{ data: Array<{ email: string }> }>(after).data.some((u) => u.email === 'fresh@example.com')).toBe(true);
    expect(dataOf<{ users: number }>(await server.call('stats.summary')).users).toBe(statsBefore.users + 1);
  });

  it("shows a created payment in the next payments page and stats, leaving the other tenant's cache alone", async () => {
    await server.call('users.list', { input: { limit: 2 }, key: 'demo-bob' });
    const input = { limit: 100, userId: 1 };
    const before = dataOf<{ data: unknown[] }>(await server.call('payments.list', { input }));
    const statsBefore = dataOf<{ payments: number }>(await server.call('stats.summary'));
    const created = await server.call('payments.create', {
      method: 'POST',
      input: { userId: 1, amountCents: 1234, currency: 'EUR' },
      headers: { 'idempotency-key': 'ryw-payment-1' },
    });
    expect(created.status).toBe(200);
    const after = dataOf<{ data: Array<{ amountCents: number }> }>(await server.call('payments.list', { input }));
    expect(after.data).toHaveLength(before.data.length + 1);
    expect(dataOf<{ payments: number }>(await server.call('stats.summary')).payments).toBe(statsBefore.payments + 1);
    expect(status(await server.call('users.list', { input: { limit: 2 }, key: 'demo-bob' }))).toBe('composure; hit');
  });
});

describe('the HTTP fast path', () => {
  const headerNames = ['content-type', 'content-length', 'etag', 'cache-control', 'cache-status', 'vary', 'ratelimit-policy', 'www-authenticate'];
  const relevant = (res: CallResult) => Object.fromEntries(headerNames.map((h) => [h, res.headers.get(h)]));

  async function bothPaths(path: string, opts: Parameters<TestServer['call']>[1]) {
    const fast = await server.call(path, opts);
    server.services.cache.fastPath = false;
    try {
      const slow = await server.call(path, opts);
      return { fast, slow };
    } finally {
      server.services.cache.fastPath = true;
    }
  }

  it('answers a hit before the tRPC adapter', async () => {
    await server.call('users.list', { input: { limit: 8 } });
    const before = server.services.cache.stats();
    expect(status(await server.call('users.list', { input: { limit: 8 } }))).toBe('composure; hit');
    expect(server.services.cache.stats()).toMatchObject({ hits: before.hits + 1, fastPathHits: before.fastPathHits + 1 });
  });

  it('sends the same status, bytes and headers as the middleware for a hit', async () => {
    await server.call('users.list', { input: { limit: 9 } });
    const { fast, slow } = await bothPaths('users.list', { input: { limit: 9 } });
    expect(fast.status).toBe(200);
    expect(slow.status).toBe(fast.status);
    expect(slow.text).toBe(fast.text);
    expect(relevant(slow)).toEqual(relevant(fast));
    expect(slow.headers.get('age')).toMatch(/^\d+$/);
    expect(fast.headers.get('age')).toMatch(/^\d+$/);
  });

  it('sends the same 304 as the middleware', async () => {
    const first = await server.call('users.list', { input: { limit: 10 } });
    const headers = { 'if-none-match': first.headers.get('etag') ?? '' };
    const { fast, slow } = await bothPaths('users.list', { input: { limit: 10 }, headers });
    expect([fast.status, slow.status]).toEqual([304, 304]);
    expect(relevant(slow)).toEqual(relevant(fast));
  });

  it('sends the same 401 as the adapter', async () => {
    const { fast, slow } = await bothPaths('users.list', { input: { limit: 9 }, key: 'not-a-key' });
    expect(fast.status).toBe(401);
    expect(slow.status).toBe(401);
    expect(fast.text).toBe(slow.text);
    expect({ ...relevant(fast), 'content-length': null }).toEqual({ ...relevant(slow), 'content-length': null });
  });

  it('hands batches, other parameters and streaming requests to the adapter', async () => {
    await server.call('users.list', { input: { limit: 3 } });
    const before = server.services.cache.stats().fastPathHits;
    const input = encodeURIComponent(JSON.stringify({ limit: 3 }));
    const auth = { authorization: 'Bearer demo-alice' };
    const a = await fetch(`${server.url}/trpc/users.list?input=${input}&extra=1`, { headers: auth });
    const b = await fetch(`${server.url}/trpc/users.list?input=${input}`, { headers: { ...auth, 'trpc-accept': 'application/jsonl' } });
    expect(a.status).toBe(200);
    expect(a.headers.get('cache-status')).toBe('composure; hit');
    expect(b.status).toBe(400);
    expect(server.services.cache.stats().fastPathHits).toBe(before);
  });
});

describe('the HTTP fast path: which requests it takes', () => {
  const auth = { authorization: 'Bearer demo-alice' };
  const fastHits = () => server.services.cache.stats().fastPathHits;

  it('answers a hit of a query sent with no query string, or a bare `?`, as one without input', async () => {
    await server.call('stats.summary');
    for (const suffix of ['', '?']) {
      const before = fastHits();
      const res = await fetch(`${server.url}/trpc/stats.summary${suffix}`, { headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-status')).toBe('composure; hit');
      expect(fastHits()).toBe(before + 1);
    }
  });

  it('hands a query string it cannot read to the adapter, even when the query without input is cached', async () => {
    await server.call('stats.summary');
    const before = fastHits();
    // Not a plain `input=`: the adapter decides (it reads no input here, and answers from its own cache middleware).
    const res = await fetch(`${server.url}/trpc/stats.summary?input=&extra=1`, { headers: auth });
    await res.arrayBuffer();
    expect(fastHits()).toBe(before);
  });

  it('hands other methods to the adapter, which refuses a query sent as POST without a body', async () => {
    await server.call('users.list', { input: { limit: 6 } });
    const before = fastHits();
    const input = encodeURIComponent(JSON.stringify({ limit: 6 }));
    const res = await fetch(`${server.url}/trpc/users.list?input=${input}`, { method: 'POST', headers: auth });
    // The adapter's answer to a POST with no Content-Type; the cached 200 would be the fast path's.
    expect(res.status).toBe(415);
    expect(fastHits()).toBe(before);
  });
});

describe('the HTTP fast path charges each request once', () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startTestServer({ RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_SECOND: '0.01', AUTH_FAILURE_BURST: '3', AUTH_FAILURE_PER_SECOND: '0.01' });
  });
  afterAll(() => limited.close());

  it('takes one token per hit, and an empty bucket answers 429 without being stored', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await limited.call('users.list', { input: { limit: 2 } }));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 429]);
    expect(answers.map((a) => a.headers.get('ratelimit'))).toEqual([
      expect.stringContaining('r=2'),
      expect.stringContaining('r=1'),
      expect.stringContaining('r=0'),
      expect.stringContaining('r=0'),
    ]);
    expect(answers.map(status)).toEqual(['composure; fwd=miss; stored', 'composure; hit', 'composure; hit', null]);
    expect(answers[3]?.headers.get('cache-control')).toBe('no-store');
    expect(answers[3]?.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('a refused hit takes its Retry-After and Cache-Control back: the full path, which may yet admit it, sets its own', async () => {
    // Bob's bucket (3 tokens, refilling at 0.01/s) spent on hits of one entry.
    for (let i = 0; i < 3; i++) expect((await limited.call('users.list', { input: { limit: 4 }, key: 'demo-bob' })).status).toBe(200);
    const { services } = limited;
    const req = new IncomingMessage(new Socket());
    req.headers = { authorization: 'Bearer demo-bob' };
    const res = new ServerResponse(req);
    const auth = await services.authGate(req, res);
    const policy = services.cache.policies.get('users.list')!;
    const entry = services.cache.get(services.cache.keyForDigest(policy, auth.tenantId, inputDigest({ limit: 4 })!))!;
    expect(entry).toBeDefined();

    expect(await chargeCacheHit(services, res, auth, policy, entry)).toBe(false);
    expect(res.getHeader('ratelimit')).toMatch(/r=0/);
    expect(res.getHeader('retry-after')).toBeUndefined();
    expect(res.getHeader('cache-control')).toBeUndefined();
  });

  it('counts a failed authentication once against the IP', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push((await limited.call('users.list', { input: { limit: 2 }, key: `wrong-${i}` })).status);
    expect(answers).toEqual([401, 401, 401, 429]);
  });
});

describe('a cache bounded by bytes', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ CACHE_MAX_BYTES: '5000', RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_SECOND: '10000' });
  });
  afterAll(() => small.close());

  it('keeps the stored entries under CACHE_MAX_BYTES and does not store a larger answer', async () => {
    for (let limit = 1; limit <= 10; limit++) await small.call('users.list', { input: { limit } });
    const { bytes, entries } = small.services.cache.stats();
    expect(bytes).toBeLessThanOrEqual(5000);
    expect(entries).toBeLessThan(10);
    expect(status(await small.call('users.list', { input: { limit: 10 } }))).toBe('composure; hit');
    const big = await small.call('users.list', { input: { limit: 50 } });
    expect(big.text.length).toBeGreaterThan(5000);
    expect(status(big)).toBe('composure; fwd=miss');
    expect(status(await small.call('users.list', { input: { limit: 50 } }))).toBe('composure; fwd=miss');
  });
});

describe('CACHE_ENABLED=false', () => {
  it('computes every query and lets nothing store it', async () => {
    const uncached = await startTestServer({ CACHE_ENABLED: 'false' });
    try {
      const answers = [await uncached.call('users.list', { input: { limit: 2 } }), await uncached.call('users.list', { input: { limit: 2 } })];
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(res.headers.get('cache-status')).toBe('composure; fwd=bypass');
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(res.headers.get('etag')).toBeNull();
      }
      expect(uncached.services.cache.stats()).toMatchObject({ hits: 0, misses: 0, entries: 0 });
    } finally {
      await uncached.close();
    }
  });
});
