import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { connect } from 'node:net';
import { startTestServer, type CallOptions } from '../helpers/server.js';
import { BASE_ENV, closePair, compare, compareRaw, startPair, type Pair } from '../helpers/lean-pair.js';

/*
 * The lean mutation path (server/http/lean-mutation.ts) against the
 * adapter: the same sequence of POSTs to a reference server (LEAN_PATH=false)
 * and a lean one, each answer compared in status, headers and bytes, and the
 * route it took checked. Date is frozen, so ids, createdAt and the stored
 * answers are equal on both sides.
 */
beforeAll(() => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2026, 5, 1, 12) });
});
afterAll(() => {
  vi.useRealTimers();
});

const post = (input: unknown, headers: Record<string, string> = {}, key?: string | null): CallOptions => ({
  method: 'POST',
  input,
  headers,
  ...(key === undefined ? {} : { key }),
});
const keyed = (key: string, input: unknown) => post(input, { 'idempotency-key': key });
const payment = { userId: 2, amountCents: 1999, currency: 'EUR' };

interface Case {
  name: string;
  path: string;
  opts: CallOptions;
  status: number;
  /** Whether the lean mutation path answers it (false: the replay fast path or the adapter). */
  lean: boolean;
}

// In order: later cases build on the rows and keys of earlier ones.
const CASES: Case[] = [
  { name: 'a keyed payments.create', path: 'payments.create', opts: keyed('order-1', payment), status: 200, lean: true },
  { name: 'its retry (the replay fast path)', path: 'payments.create', opts: keyed('order-1', payment), status: 200, lean: false },
  { name: 'the key with another body', path: 'payments.create', opts: keyed('order-1', { ...payment, amountCents: 5 }), status: 422, lean: true },
  { name: 'payments.create without a key', path: 'payments.create', opts: post(payment), status: 400, lean: true },
  { name: 'an invalid key', path: 'payments.create', opts: keyed('x'.repeat(300), payment), status: 400, lean: true },
  { name: 'a user of no one', path: 'payments.create', opts: keyed('order-2', { ...payment, userId: 999_999 }), status: 404, lean: true },
  { name: 'its retry (a stored 404)', path: 'payments.create', opts: keyed('order-2', { ...payment, userId: 999_999 }), status: 404, lean: false },
  { name: 'input zod rejects', path: 'payments.create', opts: keyed('order-3', { ...payment, amountCents: -1 }), status: 400, lean: true },
  { name: 'a currency that is no ISO code', path: 'payments.create', opts: keyed('order-4', { ...payment, currency: 'euro' }), status: 400, lean: true },
  { name: 'users.create without a key', path: 'users.create', opts: post({ name: 'Ada', email: 'Ada@Example.com' }), status: 200, lean: true },
  { name: 'the same email again', path: 'users.create', opts: post({ name: 'Ada', email: 'ada@example.com' }), status: 409, lean: true },
  { name: 'a keyed users.create', path: 'users.create', opts: keyed('user-1', { name: 'Bo', email: 'bo@example.com' }), status: 200, lean: true },
  { name: 'no API key', path: 'payments.create', opts: post(payment, { 'idempotency-key': 'k-401' }, null), status: 401, lean: false },
  { name: 'an unknown API key', path: 'users.create', opts: post({ name: 'x', email: 'x@example.com' }, {}, 'nope'), status: 401, lean: false },
  { name: 'an unknown procedure', path: 'users.nope', opts: post({}), status: 404, lean: false },
  { name: 'a query over POST', path: 'users.byId', opts: post({ id: 1 }), status: 405, lean: false },
];

const CONFIGS: Array<[string, Record<string, string>]> = [
  ['the default configuration', {}],
  ['the cache off (the benchmark)', { CACHE_ENABLED: 'false' }],
];

describe.each(CONFIGS)('the lean mutation path answers as the adapter with %s', (_, env) => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await startPair(env);
  });
  afterAll(() => closePair(pair));

  for (const c of CASES) {
    it(`answers ${c.name} with the same status, headers and bytes`, async () => {
      const { res, leanServed } = await compare(pair, c.path, c.opts);
      expect(res.status).toBe(c.status);
      expect(leanServed).toBe(c.lean ? 1 : 0);
    });
  }

  const raw = (body: string, contentType = 'application/json') => () => ({
    method: 'POST',
    headers: { authorization: 'Bearer demo-alice', 'content-type': contentType, 'idempotency-key': 'raw-1' },
    body,
  });

  it('answers a keyed body that is not JSON with the same 400, through the lean path', async () => {
    const { res, leanServed } = await compareRaw(pair, 'payments.create', raw('{not json'));
    expect(res.status).toBe(400);
    expect(leanServed).toBe(1);
  });

  it('answers an unkeyed body that is not JSON with the same 400, through the lean path', async () => {
    const { res, leanServed } = await compareRaw(pair, 'users.create', unkeyed('{"name":'));
    expect(res.status).toBe(400);
    expect(leanServed).toBe(1);
  });

  it('answers an empty body with the same 400, through the lean path', async () => {
    const { res, leanServed } = await compareRaw(pair, 'users.create', unkeyed(''));
    expect(res.status).toBe(400);
    expect(leanServed).toBe(1);
  });

  const unkeyed = (body: string) => () => ({
    method: 'POST',
    headers: { authorization: 'Bearer demo-alice', 'content-type': 'application/json' },
    body,
  });

  it('answers another content type alike, through the adapter', async () => {
    const { res, leanServed } = await compareRaw(pair, 'payments.create', raw(JSON.stringify(payment), 'text/plain'));
    expect(res.status).toBe(415);
    expect(leanServed).toBe(0);
  });

  it('answers a batched POST alike, through the adapter', async () => {
    const { res, leanServed } = await compareRaw(pair, 'payments.create?batch=1', raw(JSON.stringify({ 0: payment })));
    expect(res.status).toBe(200);
    expect(leanServed).toBe(0);
  });

  it('answers a JSON media type with parameters alike, through the lean path', async () => {
    const body = JSON.stringify({ name: 'Cy', email: 'cy@example.com' });
    const { res, leanServed } = await compareRaw(pair, 'users.create', raw(body, 'Application/JSON; charset=utf-8'));
    expect(res.status).toBe(200);
    expect(leanServed).toBe(1);
  });
});

describe('the lean mutation path under limits and failures', () => {
  const pairs: Pair[] = [];
  afterEach(async () => {
    await Promise.all(pairs.splice(0).map(closePair));
  });

  it('answers an empty bucket with the same 429, Retry-After and RateLimit headers', async () => {
    const pair = await startPair({ RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_SECOND: '0.01' });
    pairs.push(pair);
    for (const [i, status] of [200, 200, 429].entries()) {
      const { res, leanServed } = await compare(pair, 'payments.create', keyed(`limit-${i}`, payment));
      expect(res.status).toBe(status);
      expect(leanServed).toBe(1);
    }
  });

  it('answers a body over MAX_BODY_BYTES with the same 413, through the adapter', async () => {
    const pair = await startPair({ MAX_BODY_BYTES: '64' });
    pairs.push(pair);
    const { res, leanServed } = await compare(pair, 'users.create', post({ name: 'x'.repeat(100), email: 'x@example.com' }));
    expect(res.status).toBe(413);
    expect(leanServed).toBe(0);
  });

  it('holds no key for a client that leaves halfway through its body', async () => {
    await using server = await startTestServer(BASE_ENV);
    const body = JSON.stringify(payment);
    const { port } = new URL(server.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `POST /trpc/payments.create HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer demo-alice\r\n` +
            `Content-Type: application/json\r\nIdempotency-Key: left-1\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
        );
        setTimeout(() => socket.destroy(), 100);
      });
      socket.on('close', () => resolve());
    });
    const retry = await server.call('payments.create', keyed('left-1', payment));
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
  });

  it('answers an unexpected error with the same 500 and leaks nothing', async () => {
    const pair = await startPair({});
    pairs.push(pair);
    for (const server of [pair.reference, pair.lean]) {
      // After the write committed: the handler fails, the answer is a 500 on both routes.
      vi.spyOn(server.services.bus, 'publish').mockImplementation(() => {
        throw new Error('SQLITE_CORRUPT: secret detail');
      });
    }
    const { res, leanServed } = await compare(pair, 'payments.create', keyed('boom-1', payment));
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('secret detail');
    expect(leanServed).toBe(1);
  });
});
