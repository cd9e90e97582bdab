import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENTRY_OVERHEAD_BYTES } from '../../server/cache/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const UNLIMITED = { RATE_LIMIT_BURST: '100000', RATE_LIMIT_PER_SECOND: '10000' };

async function rawGet(server: TestServer, procedure: string, inputJson: string) {
  const res = await fetch(`${server.url}/trpc/${procedure}?input=${encodeURIComponent(inputJson)}`, {
    headers: { authorization: 'Bearer demo-alice' },
  });
  return { status: res.status, cacheStatus: res.headers.get('cache-status'), body: (await res.json()) as { error?: { data?: { code?: string } } } };
}

describe.each<{ route: string; env: Record<string, string> }>([
  { route: 'the fast and lean paths', env: {} },
  { route: 'the tRPC adapter', env: { CACHE_FAST_PATH: 'false', LEAN_PATH: 'false' } },
])('an input zod rejects, through $route', ({ env }) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...UNLIMITED, ...env });
  });
  afterAll(() => server.close());

  it('{"cursor":1e999} is a 400 even once {"cursor":null} is cached, since Infinity would canonicalise to null', async () => {
    expect((await rawGet(server, 'users.list', '{"cursor":null}')).cacheStatus).toBe('composure; fwd=miss; stored');
    expect((await rawGet(server, 'users.list', '{"cursor":null}')).cacheStatus).toBe('composure; hit');
    for (const input of ['{"cursor":1e999}', '{"cursor":-1e999}', '{"cursor":1e999}']) {
      const res = await rawGet(server, 'users.list', input);
      expect(res.status).toBe(400);
      expect(res.body.error?.data?.code).toBe('BAD_REQUEST');
    }
  });
});

describe('the query cache holds', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...UNLIMITED, CACHE_MAX_BYTES: String(20 * (ENTRY_OVERHEAD_BYTES + 300)) });
  });
  afterAll(() => server.close());

  it('long distinct inputs within CACHE_MAX_BYTES counting each entry, not only its body', async () => {
    const pad = 'x'.repeat(4000);
    for (let i = 0; i < 60; i++) {
      const res = await rawGet(server, 'users.byId', JSON.stringify({ id: 1 + (i % 5), pad: `${pad}${i}` }));
      expect(res.status).toBe(200);
    }
    const { bytes, entries } = server.services.cache.stats();
    expect(bytes).toBeLessThanOrEqual(20 * (ENTRY_OVERHEAD_BYTES + 300));
    expect(bytes).toBeGreaterThanOrEqual(entries * ENTRY_OVERHEAD_BYTES);
    // Counting bodies alone, all 60 (about 150 bytes each) would have fit, and their 4 KB keys beside them.
    expect(entries).toBeGreaterThan(0);
    expect(entries).toBeLessThanOrEqual(Math.floor((20 * (ENTRY_OVERHEAD_BYTES + 300)) / ENTRY_OVERHEAD_BYTES));
    expect(entries).toBeLessThan(60);
  });
});

describe('the query cache keeps', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ ...UNLIMITED, RATES_TTL_MS: '1000' });
  });
  afterAll(() => server.close());

  it('no expired entry: a rates answer past RATES_TTL_MS is dropped without being read again', async () => {
    await rawGet(server, 'users.list', '{}');
    const before = server.services.cache.stats().entries;
    expect(before).toBe(1);
    expect((await rawGet(server, 'rates.latest', '{"base":"USD"}')).cacheStatus).toBe('composure; fwd=miss; stored');
    expect(server.services.cache.stats().entries).toBe(before + 1);
    // Users entries live 60 s; the sweep runs every shortest TTL (here the rates' 1 s) and takes only the rates entry.
    await vi.waitFor(() => expect(server.services.cache.stats().entries).toBe(before), { timeout: 15_000, interval: 100 });
  });
});
