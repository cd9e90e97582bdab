import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { deleteKeysAt } from '../helpers/redis-keys.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('skipping Redis failure tests: REDIS_URL is not set');
const redisPort = REDIS_URL ? Number(new URL(REDIS_URL).port || 6379) : 0;

let server: TestServer | undefined;
let proxy: TcpProxy | undefined;
let prefix = '';
afterEach(async () => {
  await server?.close();
  await proxy?.close();
  if (REDIS_URL && prefix) await deleteKeysAt(REDIS_URL, prefix);
  server = undefined;
  proxy = undefined;
});

async function waitReady(url: string): Promise<number> {
  const deadline = Date.now() + 5000;
  let status = 0;
  while (Date.now() < deadline && (status = (await fetch(`${url}/readyz`)).status) !== 200) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return status;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - started };
}

describe.skipIf(!REDIS_URL)('when Redis fails', () => {
  it.each(['refuse', 'blackhole'] as const)('keeps answering every request (Redis cut off: %s)', async (mode) => {
    proxy = await startTcpProxy(redisPort);
    server = await startTestServer({
      REDIS_URL: proxy.url('redis'),
      REDIS_PREFIX: (prefix = `test:${randomUUID()}:`),
      RATE_LIMIT_BURST: '1000',
    });
    const s = server;
    const before = await s.call('users.byId', { input: { id: 1 } });
    expect(before.status).toBe(200);
    expect(await waitReady(s.url)).toBe(200);

    proxy.setMode(mode);
    const statuses: number[] = [];
    let slowest = 0;
    // Bounded: 60 requests in 3 waves, each must answer.
    for (let wave = 0; wave < 3; wave++) {
      const results = await Promise.all(
        Array.from({ length: 20 }, () => timed(() => s.call('users.byId', { input: { id: 1 } }))),
      );
      for (const r of results) {
        statuses.push(r.value.status);
        slowest = Math.max(slowest, r.ms);
      }
    }
    expect(statuses.every((st) => st === 200)).toBe(true);
    // Behavioural bound, generous for a noisy machine: nobody waits on a dead Redis.
    expect(slowest).toBeLessThan(2000);
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'degraded', checks: { redis: 'degraded' } });

    // Writes keep working too, and the limiter falls back to the local bucket.
    const created = await s.call('users.create', {
      method: 'POST',
      input: { name: 'During outage', email: `outage-${mode}@example.com` },
    });
    expect(created.status).toBe(200);
    expect(created.headers.get('ratelimit')).toMatch(/r=\d+/);

    proxy.setMode('pass');
    expect(await waitReady(s.url)).toBe(200);
  });
});

describe.skipIf(!REDIS_URL)('when Redis holds the connection open and stops replying', () => {
  // The promise is "no request waits more than REDIS_TIMEOUT_MS" for Redis.
  // The margin is for a loaded machine. A timeout applied many times over,
  // or not at all, waits until the connection watchdog gives up on its ping
  // (1 to 1.5 s after the stall), far past the bound.
  const REDIS_TIMEOUT_MS = 100;
  const MARGIN_MS = 500;

  async function stalledServer(env: Record<string, string> = {}): Promise<TestServer> {
    proxy = await startTcpProxy(redisPort);
    server = await startTestServer({
      REDIS_URL: proxy.url('redis'),
      REDIS_PREFIX: (prefix = `test:${randomUUID()}:`),
      REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
      RATE_LIMIT_BURST: '1000',
      ...env,
    });
    expect(await waitReady(server.url)).toBe(200);
    proxy.setMode('stall');
    return server;
  }

  it('answers rate-limited requests within REDIS_TIMEOUT_MS from the local bucket', async () => {
    const s = await stalledServer();
    const results = [];
    for (let i = 0; i < 3; i++) results.push(await timed(() => s.call('users.byId', { input: { id: 1 + i } })));
    expect(results.map((r) => r.value.status)).toEqual([200, 200, 200]);
    expect(results[0]?.value.headers.get('ratelimit')).toMatch(/r=\d+/);
    expect(Math.max(...results.map((r) => r.ms))).toBeLessThan(REDIS_TIMEOUT_MS + MARGIN_MS);
  });

  it('computes a shared-level answer locally within REDIS_TIMEOUT_MS', async () => {
    // Without the limiter, the shared cache level is the only Redis call on the path.
    const s = await stalledServer({ RATE_LIMIT_ENABLED: 'false' });
    const alice = await timed(() => s.call('stats.summary'));
    const bob = await timed(() => s.call('stats.summary', { key: 'demo-bob' }));
    expect([alice.value.status, bob.value.status]).toEqual([200, 200]);
    expect(alice.value.headers.get('ratelimit')).toBeNull();
    expect(Math.max(alice.ms, bob.ms)).toBeLessThan(REDIS_TIMEOUT_MS + MARGIN_MS);
  });
});
