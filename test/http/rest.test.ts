import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint } from '../../server/idempotency/fingerprint.js';
import { openApiConformance } from '../helpers/openapi.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let conformance: ReturnType<typeof openApiConformance>;
beforeAll(async () => {
  server = await startTestServer();
  conformance = openApiConformance((await (await fetch(`${server.url}/openapi.json`)).json()) as Record<string, unknown>);
});
afterAll(() => server.close());

interface RestResult {
  status: number;
  headers: Headers;
  text: string;
  body: Record<string, unknown>;
}

async function rest(path: string, opts: { method?: string; body?: unknown; raw?: string; key?: string | null; headers?: Record<string, string> } = {}): Promise<RestResult> {
  const headers: Record<string, string> = { ...opts.headers };
  const apiKey = opts.key === undefined ? 'demo-alice' : opts.key;
  if (apiKey !== null) headers.authorization = `Bearer ${apiKey}`;
  let body: string | undefined = opts.raw;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${server.url}${path}`, { method: opts.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // 304s have no body.
  }
  expectDocumented(opts.method ?? (body === undefined ? 'GET' : 'POST'), path, res, text);
  return { status: res.status, headers: res.headers, text, body: parsed };
}

/** Every answer of a documented route is what /openapi.json says: a documented status, its headers, a body of its schema. */
function expectDocumented(method: string, pathAndQuery: string, res: Response, text: string): void {
  const path = pathAndQuery.split('?', 1)[0] ?? '';
  const documented = conformance.templateOf(path) !== undefined && (method !== 'POST' || path === '/api/users' || path === '/api/payments');
  if (documented) expect(conformance.check(method, path, res.status, res.headers, text), `${method} ${pathAndQuery} → ${res.status}`).toEqual([]);
}

const payments = async () => Number((await server.services.database.query<{ n: number }>('SELECT count(*) AS n FROM payments'))[0]?.n);
const payment = (overrides: Record<string, unknown> = {}) => ({ userId: 1, amountCents: 1234, currency: 'EUR', ...overrides });
const pay = (key: string | null, input: unknown) => rest('/api/payments', { body: input, headers: key === null ? {} : { 'idempotency-key': key } });

function expectProblem(res: RestResult, status: number, type: string): void {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.body).toMatchObject({ type, status });
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
}
const TAG = 'tag:composure,2026:problems/';

describe('REST reads', () => {
  it('pages through every user with limit and cursor, the same pages as users.list on /trpc', async () => {
    const seen: number[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 20; page++) {
      const query: string = cursor === null ? '?limit=7' : `?limit=7&cursor=${encodeURIComponent(cursor)}`;
      const res = await rest(`/api/users${query}`);
      expect(res.status).toBe(200);
      const trpc = await server.call('users.list', { input: cursor === null ? { limit: 7 } : { limit: 7, cursor } });
      expect(res.text).toBe(JSON.stringify(trpc.body.result?.data));
      const body = res.body as { data: { id: number }[]; nextCursor: string | null; hasMore: boolean };
      seen.push(...body.data.map((u) => u.id));
      cursor = body.nextCursor;
      if (!body.hasMore) break;
    }
    expect(cursor).toBeNull();
    const all = (await server.services.database.query<{ id: number }>('SELECT id FROM users WHERE tenant_id = 1 ORDER BY id')).map((r) => ({ id: Number(r.id) }));
    expect(seen).toEqual(all.map((u) => u.id));
  });

  it('answers one user by id, and a missing one with a not-found problem', async () => {
    const res = await rest('/api/users/3');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: 3 });
    const trpc = await server.call('users.byId', { input: { id: 3 } });
    expect(res.text).toBe(JSON.stringify(trpc.body.result?.data));
    expectProblem(await rest('/api/users/999999'), 404, `${TAG}not-found`);
  });

  it('shares cache entries with /trpc for the same input, with ETag, Cache-Status and a 304', async () => {
    const trpc = await server.call('payments.list', { input: { limit: 3, userId: 2 } });
    expect(trpc.headers.get('cache-status')).toBe('composure; fwd=miss; stored');
    const fastHits = server.services.cache.counters.fastPathHits;
    const res = await rest('/api/payments?userId=2&limit=3');
    expect(server.services.cache.counters.fastPathHits).toBe(fastHits + 1);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-status')).toBe('composure; hit');
    expect(res.headers.get('etag')).toBe(trpc.headers.get('etag'));
    expect(res.text).toBe(JSON.stringify(trpc.body.result?.data));
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(res.text));
    const again = await rest('/api/payments?userId=2&limit=3', { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(again.headers.get('content-type')).toBeNull();
  });

  it('answers a hit on its fast path with the bytes and headers the middleware gives with CACHE_FAST_PATH=false', async () => {
    // One cursor secret, so both servers write the same bytes.
    const CURSOR_SECRET = 'rest-fast-path-parity-secret-0123456789';
    await using fast = await startTestServer({ CURSOR_SECRET });
    await using slow = await startTestServer({ CURSOR_SECRET, CACHE_FAST_PATH: 'false' });
    const headers = { authorization: 'Bearer demo-alice' };
    const answers = [];
    for (const base of [fast.url, slow.url]) {
      await fetch(`${base}/api/users?limit=3&cursor=`, { headers });
      const hit = await fetch(`${base}/api/users?limit=3`, { headers });
      const etag = hit.headers.get('etag') ?? '';
      const notModified = await fetch(`${base}/api/users?limit=3`, { headers: { ...headers, 'if-none-match': etag } });
      const names = (r: Response) => [...r.headers.keys()].filter((n) => !['date', 'x-request-id', 'ratelimit'].includes(n)).sort();
      answers.push({
        status: hit.status,
        text: await hit.text(),
        names: names(hit),
        cacheStatus: hit.headers.get('cache-status'),
        notModified: { status: notModified.status, text: await notModified.text(), names: names(notModified) },
      });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(fast.services.cache.counters.fastPathHits).toBe(2);
    expect(slow.services.cache.counters.fastPathHits).toBe(0);
    expect(answers[0]?.cacheStatus).toBe('composure; hit');
    expect(answers[0]?.notModified.status).toBe(304);
  });

  it('ignores unknown query parameters, so they neither fail nor split the cache', async () => {
    await rest('/api/users?limit=4');
    const res = await rest('/api/users?limit=4&_=12345');
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-status')).toBe('composure; hit');
  });

  it('gives the stats and the rates, with the RateLimit headers of every answer', async () => {
    const stats = await rest('/api/stats');
    expect(stats.status).toBe(200);
    expect(stats.body).toMatchObject({ users: expect.any(Number), payments: expect.any(Number) });
    expect(stats.headers.get('ratelimit-policy')).toMatch(/^"default";q=\d+;w=\d+$/);
    expect(stats.headers.get('ratelimit')).toMatch(/^"default";r=\d+;t=\d+$/);
    const rates = await rest('/api/rates');
    expect(rates.status).toBe(200);
    expect(rates.body).toMatchObject({ base: 'USD' });
    expect(rates.headers.get('cache-control')).toContain('max-age=');
  });
});

describe('REST errors as problem details', () => {
  it('answers invalid input with the zod issues, while /trpc keeps its own error body', async () => {
    const res = await rest('/api/users?limit=500');
    expectProblem(res, 400, `${TAG}invalid-input`);
    expect(res.body.code).toBe('BAD_REQUEST');
    expect(res.body.issues).toEqual([expect.objectContaining({ path: ['limit'], code: 'too_big' })]);
    const trpc = await server.call('users.list', { input: { limit: 500 } });
    expect(trpc.status).toBe(400);
    expect(trpc.headers.get('content-type')).toBe('application/json');
    expect(trpc.body.error?.data).toMatchObject({ code: 'BAD_REQUEST', zodIssues: [expect.objectContaining({ path: ['limit'] })] });
  });

  it('reads a path parameter that is not a number as an invalid input, not a 500', async () => {
    const res = await rest('/api/users/abc');
    expectProblem(res, 400, `${TAG}invalid-input`);
    expect(res.body.issues).toEqual([expect.objectContaining({ path: ['id'], code: 'invalid_type' })]);
  });

  it('answers a forged cursor with an invalid-cursor problem', async () => {
    expectProblem(await rest('/api/users?cursor=forged.cursor'), 400, `${TAG}invalid-cursor`);
  });

  it('answers a missing or unknown API key with 401 and WWW-Authenticate', async () => {
    const missing = await rest('/api/users', { key: null });
    expectProblem(missing, 401, `${TAG}unauthorized`);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="composure"');
    expectProblem(await rest('/api/stats', { key: 'not-a-key' }), 401, `${TAG}unauthorized`);
  });

  it('answers an unknown route with 404 and a wrong method with 405 and Allow', async () => {
    expectProblem(await rest('/api/nothing-here'), 404, `${TAG}not-found`);
    const wrong = await rest('/api/stats', { method: 'POST', body: {} });
    expectProblem(wrong, 405, `${TAG}method-not-allowed`);
    expect(wrong.headers.get('allow')).toBe('GET');
  });

  it('refuses a body that is not JSON, or not declared as JSON', async () => {
    expectProblem(await rest('/api/users', { raw: '{"name":', headers: { 'content-type': 'application/json' } }), 400, `${TAG}bad-request`);
    expectProblem(await rest('/api/users', { raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, `${TAG}unsupported-media-type`);
  });

  it('answers a duplicate email with a duplicate problem', async () => {
    const user = { name: 'Rest Dup', email: 'rest-dup@example.com' };
    const created = await rest('/api/users', { body: user });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Rest Dup', email: 'rest-dup@example.com' });
    expect(created.headers.get('location')).toBe(`/api/users/${String(created.body.id)}`);
    expect((await rest(created.headers.get('location') ?? '')).body).toEqual(created.body);
    expectProblem(await rest('/api/users', { body: user }), 409, `${TAG}duplicate`);
  });
});

describe('REST idempotent payments', () => {
  it('requires an Idempotency-Key, and refuses an invalid one', async () => {
    const before = await payments();
    expectProblem(await pay(null, payment()), 400, `${TAG}idempotency-key-missing`);
    expectProblem(await pay('bad\u00e9key', payment()), 400, `${TAG}idempotency-key-invalid`);
    expect(await payments()).toBe(before);
  });

  it('creates once and replays the same bytes with Idempotent-Replayed: true', async () => {
    const before = await payments();
    const first = await pay('rest-replay-1', payment({ amountCents: 777 }));
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ userId: 1, amountCents: 777, currency: 'EUR' });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await pay('rest-replay-1', payment({ amountCents: 777 }));
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(first.text);
    expect(await payments()).toBe(before + 1);
  });

  it('treats a key used on /api then on /trpc as one request with one payment', async () => {
    const before = await payments();
    const viaRest = await pay('rest-then-trpc', payment({ amountCents: 901 }));
    const viaTrpc = await server.call('payments.create', { method: 'POST', input: payment({ amountCents: 901 }), headers: { 'idempotency-key': 'rest-then-trpc' } });
    expect(viaTrpc.status).toBe(200);
    expect(viaTrpc.headers.get('idempotent-replayed')).toBe('true');
    expect(viaTrpc.body.result?.data).toEqual(viaRest.body);
    expect(await payments()).toBe(before + 1);
  });

  it('treats a key used on /trpc then on /api as one request with one payment', async () => {
    const before = await payments();
    const viaTrpc = await server.call('payments.create', { method: 'POST', input: payment({ amountCents: 902 }), headers: { 'idempotency-key': 'trpc-then-rest' } });
    const viaRest = await pay('trpc-then-rest', payment({ amountCents: 902 }));
    expect(viaRest.status).toBe(201);
    expect(viaRest.headers.get('idempotent-replayed')).toBe('true');
    expect(viaRest.text).toBe(JSON.stringify(viaTrpc.body.result?.data));
    expect(await payments()).toBe(before + 1);
  });

  it('replays a stored business error as the same problem', async () => {
    const [bobRow] = await server.services.database.query<{ id: number }>('SELECT id FROM users WHERE tenant_id = 2 ORDER BY id LIMIT 1');
    const bob = { id: Number(bobRow?.id) };
    const first = await pay('rest-404', payment({ userId: bob.id }));
    expectProblem(first, 404, `${TAG}not-found`);
    const again = await pay('rest-404', payment({ userId: bob.id }));
    expectProblem(again, 404, `${TAG}not-found`);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('answers the same key with another body with an idempotency-key-reused problem', async () => {
    await pay('rest-mismatch', payment({ amountCents: 10 }));
    const other = await pay('rest-mismatch', payment({ amountCents: 11 }));
    expectProblem(other, 422, `${TAG}idempotency-key-reused`);
    expect(other.body.code).toBe('UNPROCESSABLE_CONTENT');
  });

  it('answers a key still being processed with 409, Retry-After and retryAfterMs', async () => {
    const input = payment({ amountCents: 55 });
    const held = await server.services.idempotency.claim({ tenantId: 1, procedure: 'payments.create', key: 'rest-in-flight' }, fingerprint(input));
    expect(held.kind).toBe('claimed');
    try {
      const during = await pay('rest-in-flight', input);
      expectProblem(during, 409, `${TAG}idempotency-key-in-use`);
      expect(during.headers.get('retry-after')).toBe('1');
      expect(during.body.retryAfterMs).toBe(1000);
    } finally {
      if (held.kind === 'claimed') await server.services.idempotency.release(held.claim);
    }
    expect((await pay('rest-in-flight', input)).status).toBe(201);
  });
});

describe('REST in the browser', () => {
  it('answers an allowed origin with the CORS headers, so a page can read RateLimit and Retry-After', async () => {
    await using open = await startTestServer({ CORS_ORIGINS: 'https://app.example' });
    const res = await fetch(`${open.url}/api/users?limit=1`, { headers: { authorization: 'Bearer demo-alice', origin: 'https://app.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-expose-headers')).toContain('ratelimit');
    const preflight = await fetch(`${open.url}/api/payments`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'idempotency-key' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toContain('idempotency-key');
  });
});

describe('REST under limits and failures', () => {
  it('answers an empty bucket with the quota-exceeded problem type of the RateLimit draft', async () => {
    await using limited = await startTestServer({ RATE_LIMIT_BURST: '2', RATE_LIMIT_PER_SECOND: '0.01' });
    const get = () => fetch(`${limited.url}/api/users`, { headers: { authorization: 'Bearer demo-alice' } });
    await get();
    await get();
    const res = await get();
    const text = await res.clone().text();
    expectDocumented('GET', '/api/users', res, text);
    expect(res.status).toBe(429);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      type: 'https://iana.org/assignments/http-problem-types#quota-exceeded',
      status: 429,
      code: 'TOO_MANY_REQUESTS',
      'violated-policies': ['default'],
    });
    expect(body.retryAfterMs).toBeGreaterThan(0);
  });

  it('falls back as /trpc does: payments without amountInBase, then a 503 problem for rates with none stored', async () => {
    await using failing = await startTestServer({ RATES_TIMEOUT_MS: '2000', BREAKER_FAILURES: '1' });
    failing.services.simulator?.setMode('error');
    const headers = { authorization: 'Bearer demo-alice' };
    const page = await fetch(`${failing.url}/api/payments?limit=2`, { headers });
    expectDocumented('GET', '/api/payments', page, await page.clone().text());
    expect(page.status).toBe(200);
    const body = (await page.json()) as { data: { amountInBase: number | null }[]; degraded?: string[] };
    expect(body.degraded).toEqual(['rates']);
    expect(body.data.every((p) => p.amountInBase === null)).toBe(true);
    const rates = await fetch(`${failing.url}/api/rates`, { headers });
    expectDocumented('GET', '/api/rates', rates, await rates.clone().text());
    expect(rates.status).toBe(503);
    expect(rates.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(rates.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await rates.json()).toMatchObject({ type: `${TAG}upstream-unavailable`, status: 503, retryAfterMs: expect.any(Number) });
  });
});
