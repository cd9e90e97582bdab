import { createTRPCClient, httpLink } from '@trpc/client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AppRouter } from '../../server/routers/app.js';
import { createClient, isAbortError, isNetworkError, isUnavailableError, paginate, type RetryEvent } from '../../client/index.js';
import { retryAfterLink } from '../../client/links/retry-after.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startProxy, trpcError, type LoopbackProxy } from './helpers/proxy.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let server: TestServer;
let proxy: LoopbackProxy;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  proxy = await startProxy(server.url);
});
afterEach(() => proxy.close());

const uniqueAmount = () => 100_000 + Math.floor(Math.random() * 800_000);

describe('idempotency keys', () => {
  it('retries a mutation whose response was lost with the same key, and the server keeps exactly one payment', async () => {
    const amountCents = uniqueAmount();
    let dropped = false;
    proxy.handle = (req) => {
      if (!dropped && req.path.startsWith('/trpc/payments.create')) {
        dropped = true;
        return 'drop-after-forward';
      }
      return 'forward';
    };
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { baseDelayMs: 20 } });

    const payment = await client.payments.create.mutate({ userId: 2, amountCents, currency: 'EUR' });

    const creates = proxy.requestsTo('payments.create');
    expect(creates.map((c) => c.action)).toEqual(['drop', 'forward']);
    // The first attempt reached the server and committed before its answer was lost.
    expect(creates[0]?.status).toBe(200);
    expect(creates[0]?.headers['idempotency-key']).toMatch(UUID_V4);
    expect(creates[1]?.headers['idempotency-key']).toBe(creates[0]?.headers['idempotency-key']);

    const direct = createClient({ url: server.url, apiKey: 'demo-alice' });
    const matching: number[] = [];
    for await (const p of paginate(direct.payments.list, { limit: 100, userId: 2 })) {
      if (p.amountCents === amountCents) matching.push(p.id);
    }
    expect(matching).toEqual([payment.id]);
  });

  it('gives each of several concurrent mutations its own key', async () => {
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice' });
    await Promise.all([1, 2, 3].map((userId) => client.payments.create.mutate({ userId, amountCents: uniqueAmount(), currency: 'USD' })));
    const keys = proxy.requestsTo('payments.create').map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(3);
    for (const key of keys) expect(key).toMatch(UUID_V4);
  });

  it("sends the caller's key unchanged and sends no key on queries", async () => {
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice' });
    const idempotencyKey = `order-${crypto.randomUUID()}`;
    await client.payments.create.mutate({ userId: 1, amountCents: uniqueAmount(), currency: 'EUR' }, { context: { idempotencyKey } });
    await client.users.list.query({ limit: 1 });
    expect(proxy.requestsTo('payments.create')[0]?.headers['idempotency-key']).toBe(idempotencyKey);
    expect(proxy.requestsTo('users.list')[0]?.headers['idempotency-key']).toBeUndefined();
  });

  it('makes no key for a query, not even in the retry events it reports', async () => {
    let first = true;
    proxy.handle = () => {
      if (!first) return 'forward';
      first = false;
      return { status: 503, headers: { 'retry-after': '0' }, body: trpcError(503, 'SERVICE_UNAVAILABLE', 'Overloaded.', { reason: 'overloaded' }) };
    };
    const events: RetryEvent[] = [];
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { onRetry: (e) => events.push(e) } });
    await client.users.list.query({ limit: 1 });
    expect(events.map((e) => [e.type, e.idempotencyKey])).toEqual([['query', undefined]]);
  });

  it('refuses a caller key that is not a string, even one that reads as a valid key', async () => {
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice' });
    await expect(
      client.payments.create.mutate({ userId: 1, amountCents: 100, currency: 'EUR' }, { context: { idempotencyKey: 12345 } }),
    ).rejects.toThrow(/idempotencyKey must be 1–255 printable ASCII/);
    expect(proxy.log).toHaveLength(0);
  });

  it('refuses a malformed caller key before sending anything', async () => {
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice' });
    await expect(
      client.payments.create.mutate({ userId: 1, amountCents: 100, currency: 'EUR' }, { context: { idempotencyKey: ' bad key\n' } }),
    ).rejects.toThrow(/idempotencyKey must be 1–255 printable ASCII/);
    expect(proxy.log).toHaveLength(0);
  });

  it('retries a 409 idempotency_in_flight with the same key after its Retry-After', async () => {
    let first = true;
    proxy.handle = () => {
      if (!first) return 'forward';
      first = false;
      return {
        status: 409,
        headers: { 'retry-after': '0' },
        body: trpcError(409, 'CONFLICT', 'A request with this key is in flight.', { reason: 'idempotency_in_flight' }),
      };
    };
    const events: RetryEvent[] = [];
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { onRetry: (e) => events.push(e) } });
    await client.payments.create.mutate({ userId: 1, amountCents: uniqueAmount(), currency: 'EUR' });
    const [a, b] = proxy.requestsTo('payments.create');
    expect(b?.headers['idempotency-key']).toBe(a?.headers['idempotency-key']);
    expect(events.map((e) => [e.delayMs, e.source, e.idempotencyKey])).toEqual([[0, 'retry-after', a?.headers['idempotency-key']]]);
  });
});

describe('what is retried', () => {
  it('retries a query whose connection dropped', async () => {
    let dropped = false;
    proxy.handle = () => (dropped ? 'forward' : ((dropped = true), 'drop-after-forward'));
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { baseDelayMs: 5 } });
    const page = await client.users.list.query({ limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(proxy.log.map((e) => e.action)).toEqual(['drop', 'forward']);
  });

  it('does not retry a validation error or a duplicate-email 409', async () => {
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { baseDelayMs: 1 } });
    await expect(client.users.list.query({ limit: 1000 })).rejects.toThrow();
    const email = `dup-${crypto.randomUUID()}@example.com`;
    await client.users.create.mutate({ name: 'Dup', email });
    await expect(client.users.create.mutate({ name: 'Dup', email })).rejects.toThrow();
    expect(proxy.log.map((e) => e.status)).toEqual([400, 200, 409]);
  });

  it('never retries a mutation that carries no idempotency key', async () => {
    proxy.handle = () => ({ status: 503, body: trpcError(503, 'SERVICE_UNAVAILABLE', 'down') });
    // The bare retry link, without the idempotency link in front of it.
    const client = createTRPCClient<AppRouter>({
      links: [retryAfterLink({ baseDelayMs: 1 }), httpLink({ url: `${proxy.url}/trpc`, headers: { authorization: 'Bearer demo-alice' } })],
    });
    await expect(client.users.create.mutate({ name: 'No key', email: `nokey-${crypto.randomUUID()}@example.com` })).rejects.toThrow();
    expect(proxy.log).toHaveLength(1);
  });
});

describe('Retry-After', () => {
  it('waits out Retry-After: 1 from a real 429 before retrying', async () => {
    const limited = await startTestServer({ RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_SECOND: '10' });
    const limitedProxy = await startProxy(limited.url);
    try {
      const events: RetryEvent[] = [];
      const client = createClient({ url: limitedProxy.url, apiKey: 'demo-alice', retry: { onRetry: (e) => events.push(e) } });
      // Spend the bucket one call at a time until one meets a 429 and is retried.
      for (let i = 0; i < 50 && events.length === 0; i++) expect((await client.users.byId.query({ id: 1 })).id).toBe(1);

      expect(events).toHaveLength(1);
      // Retry-After: 1 (whole seconds) is later than retryAfterMs (≤ 100 ms at 10/s): the later one wins.
      expect(events[0]).toMatchObject({ attempt: 1, source: 'retry-after', delayMs: 1000 });
      const rejectedAt = limitedProxy.log.findIndex((e) => e.status === 429);
      const rejected = limitedProxy.log[rejectedAt];
      const retried = limitedProxy.log[rejectedAt + 1];
      expect(limitedProxy.log).toHaveLength(rejectedAt + 2);
      // The scheduled delay is asserted above; the proxy confirms the wire, with a generous bound.
      expect((retried?.receivedAt ?? 0) - (rejected?.answeredAt ?? Infinity)).toBeGreaterThanOrEqual(990);
      expect(retried?.status).toBe(200);
    } finally {
      await limitedProxy.close();
      await limited.close();
    }
  });

  it('waits error.data.retryAfterMs when no Retry-After header came', async () => {
    let first = true;
    proxy.handle = () => {
      if (!first) return 'forward';
      first = false;
      return { status: 503, body: trpcError(503, 'SERVICE_UNAVAILABLE', 'warming up', { retryAfterMs: 30 }) };
    };
    const events: RetryEvent[] = [];
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { onRetry: (e) => events.push(e) } });
    await client.users.list.query({ limit: 1 });
    expect(events.map((e) => [e.delayMs, e.source])).toEqual([[30, 'retry-after']]);
    expect(proxy.log.map((e) => e.status)).toEqual([503, 200]);
  });

  it('reads an HTTP-date Retry-After as the time until then', async () => {
    let first = true;
    const at = new Date(Date.now() + 2_000).toUTCString();
    proxy.handle = () => {
      if (!first) return 'forward';
      first = false;
      return { status: 503, headers: { 'retry-after': at }, body: trpcError(503, 'SERVICE_UNAVAILABLE', 'down') };
    };
    const events: RetryEvent[] = [];
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { onRetry: (e) => events.push(e) } });
    await client.users.list.query({ limit: 1 });
    // HTTP-dates have whole seconds: the wait is what remains of the 2 s, less the truncated fraction.
    expect(events[0]?.source).toBe('retry-after');
    expect(events[0]?.delayMs).toBeGreaterThan(900);
    expect(events[0]?.delayMs).toBeLessThanOrEqual(2_000);
  });

  it('rejects at once when the call is aborted during a wait', async () => {
    proxy.handle = () => ({ status: 503, headers: { 'retry-after': '10' }, body: trpcError(503, 'SERVICE_UNAVAILABLE', 'down') });
    const ac = new AbortController();
    // "At once" as an order of events: the rejection lands before the next
    // turn of the event loop after the abort, not when the 10 s wait ends.
    let turnAfterAbort = false;
    const client = createClient({
      url: proxy.url,
      apiKey: 'demo-alice',
      retry: {
        onRetry: () => {
          setTimeout(() => {
            ac.abort();
            setImmediate(() => (turnAfterAbort = true));
          }, 20);
        },
      },
    });
    const error = await client.stats.summary.query({}, { signal: ac.signal }).catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(turnAfterAbort).toBe(false);
    expect(proxy.log).toHaveLength(1);
  });

  it('gives up after maxAttempts on a persistent 503, with the last error', async () => {
    proxy.handle = (req) => ({ status: 503, body: trpcError(503, 'SERVICE_UNAVAILABLE', `down #${req.index}`) });
    const events: RetryEvent[] = [];
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { maxAttempts: 3, baseDelayMs: 5, onRetry: (e) => events.push(e) } });
    const error = await client.users.list.query({ limit: 1 }).catch((e: unknown) => e);
    expect(proxy.log).toHaveLength(3);
    expect(isUnavailableError(error)).toBe(true);
    expect((error as Error).message).toBe('down #2');
    // Full jitter: attempt n waits below baseDelayMs · 2^(n−1).
    expect(events.map((e) => e.source)).toEqual(['backoff', 'backoff']);
    expect(events[0]?.delayMs).toBeLessThan(5);
    expect(events[1]?.delayMs).toBeLessThan(10);
  });

  it('gives up at once, with retryAfterMs, when the server asks for longer than maxDelayMs', async () => {
    proxy.handle = () => ({ status: 503, headers: { 'retry-after': '120' }, body: trpcError(503, 'SERVICE_UNAVAILABLE', 'maintenance') });
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { maxDelayMs: 5_000 } });
    const error = await client.users.list.query({}).catch((e: unknown) => e);
    expect(proxy.log).toHaveLength(1);
    expect(isUnavailableError(error) && error.retryAfterMs).toBe(120_000);
  });

  it('reports a network failure after its retries', async () => {
    const closed = await startProxy(server.url);
    const url = closed.url;
    await closed.close();
    const client = createClient({ url, apiKey: 'demo-alice', retry: { maxAttempts: 2, baseDelayMs: 1 } });
    const error = await client.users.list.query({}).catch((e: unknown) => e);
    expect(isNetworkError(error)).toBe(true);
  });
});
