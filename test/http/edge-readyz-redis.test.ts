import { randomUUID } from 'node:crypto';
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeysAt } from '../helpers/redis-keys.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const REDIS_URL = process.env.REDIS_URL;
if (!REDIS_URL) console.warn('skipping the slow-Redis readiness test: REDIS_URL is not set');

/** A TCP proxy to Redis that, once slowed, holds each answer from Redis for `delayMs` before passing it on. */
async function startSlowProxy(target: URL) {
  let delayMs = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    // One chain per connection keeps Redis's answers in order, however the delay changes.
    let chain = Promise.resolve();
    upstream.on('data', (chunk: Buffer) => {
      const ms = delayMs;
      chain = chain
        .then(() => (ms === 0 ? undefined : new Promise<void>((resolve) => setTimeout(resolve, ms))))
        .then(() => {
          if (client.writable) client.write(chunk);
        });
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    slow(ms: number) {
      delayMs = ms;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const readyz = async (server: TestServer) => {
  const res = await fetch(`${server.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, string> } };
};

describe.skipIf(!REDIS_URL)('/readyz with a Redis that answers, but slowly', () => {
  const prefix = `test:${randomUUID()}:`;
  afterAll(() => deleteKeysAt(REDIS_URL ?? '', prefix));

  it('is 503 with the Redis check "slow" while Redis answers slower than REDIS_TIMEOUT_MS, and 200 again once it is fast', async () => {
    const proxy = await startSlowProxy(new URL(REDIS_URL ?? ''));
    const server = await startTestServer({ REDIS_URL: proxy.url, REDIS_PREFIX: prefix, REDIS_TIMEOUT_MS: '100' });
    try {
      // Connected and fast first (the connection comes up a moment after start).
      let ready = await readyz(server);
      while (ready.status !== 200) ready = await readyz(server);
      // Still answering (the watchdog's pings wait up to a second), but six times past the budget.
      proxy.slow(600);
      const slow = await readyz(server);
      expect(slow.status).toBe(503);
      expect(slow.body.checks.redis).toBe('slow');
      expect(slow.body.status).toBe('degraded');
      proxy.slow(0);
      // Answers held back while slow arrive late; then the checks pass again.
      do ready = await readyz(server);
      while (ready.status !== 200);
      expect(ready.body.checks.redis).toBe('ok');
    } finally {
      await server.close();
      await proxy.close();
    }
  });
});
