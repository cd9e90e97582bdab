import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const APP = 'https://app.example.com';
const EXPOSED = 'retry-after, ratelimit, ratelimit-policy, idempotent-replayed, cache-status, etag, age, x-request-id';

function corsHeadersOf(headers: Headers): Record<string, string> {
  return Object.fromEntries([...headers].filter(([name]) => name.startsWith('access-control-')));
}

function expectCors(headers: Headers, origin: string): void {
  expect(headers.get('access-control-allow-origin')).toBe(origin);
  expect(headers.get('access-control-expose-headers')).toBe(EXPOSED);
  expect(headers.get('vary')?.split(/\s*,\s*/)).toContain('Origin');
}

async function preflight(base: string, origin: string, path = '/trpc/users.list'): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, idempotency-key' },
  });
}

describe('CORS', () => {
  it('answers a preflight from a listed origin with 204 and the allowed methods, headers and max age', async () => {
    server = await startTestServer({ CORS_ORIGINS: `${APP}, http://other.example:8080` });
    const res = await preflight(server.url, APP);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(corsHeadersOf(res.headers)).toEqual({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': 'authorization, content-type, idempotency-key, if-none-match, trpc-accept, x-request-id',
      'access-control-max-age': '600',
    });
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('answers the preflight of a mutation before authentication, so the browser can send the key next', async () => {
    server = await startTestServer({ CORS_ORIGINS: APP });
    const res = await preflight(server.url, APP, '/trpc/payments.create');
    expect(res.status).toBe(204);
  });

  it('adds Allow-Origin, Expose-Headers and Vary: Origin to a query answered by the adapter, keeping its own Vary', async () => {
    server = await startTestServer({ CORS_ORIGINS: APP, LEAN_PATH: 'false', CACHE_FAST_PATH: 'false' });
    const res = await server.call('users.list', { input: { limit: 2 }, headers: { origin: APP } });
    expect(res.status).toBe(200);
    expectCors(res.headers, APP);
    expect(res.headers.get('vary')).toBe('trpc-accept, accept, Origin');
  });

  it('carries the CORS headers on the lean path, a cache hit and a 304', async () => {
    server = await startTestServer({ CORS_ORIGINS: APP });
    const first = await server.call('users.list', { input: { limit: 2 }, headers: { origin: APP } });
    expect(first.status).toBe(200);
    expectCors(first.headers, APP);
    const hit = await server.call('users.list', { input: { limit: 2 }, headers: { origin: APP } });
    expect(hit.headers.get('cache-status')).toMatch(/hit/);
    expectCors(hit.headers, APP);
    const etag = hit.headers.get('etag') ?? '';
    const notModified = await server.call('users.list', { input: { limit: 2 }, headers: { origin: APP, 'if-none-match': etag } });
    expect(notModified.status).toBe(304);
    expectCors(notModified.headers, APP);
  });

  it('carries the CORS headers on a 429, so a browser client can read its Retry-After', async () => {
    server = await startTestServer({ CORS_ORIGINS: APP, RATE_LIMIT_BURST: '1', RATE_LIMIT_PER_SECOND: '0.5' });
    await server.call('users.byId', { input: { id: 1 }, headers: { origin: APP } });
    const limited = await server.call('users.byId', { input: { id: 1 }, headers: { origin: APP } });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('2');
    expectCors(limited.headers, APP);
  });

  it('carries the CORS headers on a 401, a 400, a 404 and an idempotent replay', async () => {
    server = await startTestServer({ CORS_ORIGINS: APP });
    const headers = { origin: APP };
    expectCors((await server.call('users.list', { key: 'nope', headers })).headers, APP);
    expectCors((await server.call('users.list', { input: { limit: 0 }, headers })).headers, APP);
    const missing = await fetch(`${server.url}/nowhere`, { headers });
    expect(missing.status).toBe(404);
    expectCors(missing.headers, APP);
    const input = { userId: 1, amountCents: 500, currency: 'EUR' };
    const keyed = { ...headers, 'idempotency-key': 'cors-replay-1' };
    expect((await server.call('payments.create', { method: 'POST', input, headers: keyed })).status).toBe(200);
    const replay = await server.call('payments.create', { method: 'POST', input, headers: keyed });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expectCors(replay.headers, APP);
  });

  it('gives an origin that is not allowed no CORS header at all, on a preflight or a call', async () => {
    server = await startTestServer({ CORS_ORIGINS: APP });
    const refused = await preflight(server.url, 'https://evil.example');
    expect(refused.status).not.toBe(204);
    expect(corsHeadersOf(refused.headers)).toEqual({});
    const call = await server.call('users.list', { headers: { origin: 'https://evil.example' } });
    expect(call.status).toBe(200);
    expect(corsHeadersOf(call.headers)).toEqual({});
    expect(call.headers.get('vary')).toBe('trpc-accept, accept');
  });

  it('allows any local origin in development when CORS_ORIGINS is unset, and nothing else', async () => {
    server = await startTestServer({ NODE_ENV: 'development' });
    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:4321', 'http://localhost']) {
      expect((await preflight(server.url, origin)).status).toBe(204);
    }
    for (const origin of ['https://localhost:5173', 'http://localhost.evil.example', 'http://127.0.0.2:80', 'null']) {
      expect(corsHeadersOf((await preflight(server.url, origin)).headers)).toEqual({});
    }
  });

  it('allows no origin outside development when CORS_ORIGINS is unset', async () => {
    server = await startTestServer({ NODE_ENV: 'production' });
    const res = await preflight(server.url, 'http://localhost:5173');
    expect(corsHeadersOf(res.headers)).toEqual({});
  });

  it('refuses at start a CORS_ORIGINS entry that is not a bare origin, naming the variable', () => {
    expect(() => loadConfig({ CORS_ORIGINS: 'https://app.example.com/' })).toThrow(/CORS_ORIGINS: .*is not an origin/);
    expect(() => loadConfig({ CORS_ORIGINS: 'app.example.com' })).toThrow(/CORS_ORIGINS/);
    expect(loadConfig({ CORS_ORIGINS: 'https://a.example, http://localhost:5173' }).CORS_ORIGINS).toEqual(['https://a.example', 'http://localhost:5173']);
  });
});
