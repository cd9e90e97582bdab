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
