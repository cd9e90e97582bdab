import { createTRPCClient, httpBatchLink, TRPCClientError } from '@trpc/client';
import { afterEach, describe, expect, it } from 'vitest';
import type { AppRouter } from '../../server/routers/app.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(() => Promise.all(servers.splice(0).map((s) => s.close())));
async function start(env: Record<string, string> = {}): Promise<TestServer> {
  const server = await startTestServer({ NODE_ENV: 'production', SEED: 'true', ...env });
  servers.push(server);
  return server;
}

interface BatchAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A GET batch of `users.byId` calls (or the given paths), as the tRPC batch link sends it. */
async function batch(server: TestServer, paths: string[], key: string | null = 'demo-alice'): Promise<BatchAnswer> {
  const input = Object.fromEntries(paths.map((path, i) => [String(i), path === 'users.byId' ? { id: 1 } : undefined]));
  const url = `${server.url}/trpc/${paths.join(',')}?batch=1&input=${encodeURIComponent(JSON.stringify(input))}`;
  const res = await fetch(url, { headers: key === null ? {} : { authorization: `Bearer ${key}` } });
  return { status: res.status, headers: res.headers, body: await res.json() };
}
const byIds = (n: number) => Array.from({ length: n }, () => 'users.byId');
const remaining = (answer: BatchAnswer) => /r=(\d+)/.exec(answer.headers.get('ratelimit') ?? '')?.[1];

describe('batches', () => {
  it('hold at most MAX_BATCH_SIZE calls: one more is a single 400 for the whole request', async () => {
    const server = await start({ MAX_BATCH_SIZE: '3' });
    const full = await batch(server, byIds(3));
    expect(full.status).toBe(200);
    expect(full.body).toHaveLength(3);
    const over = await batch(server, byIds(4));
    expect(over.status).toBe(400);
    expect(over.body).toMatchObject({ error: { message: expect.stringContaining('MAX_BATCH_SIZE'), data: { code: 'BAD_REQUEST' } } });
  });

  it('default to at most 10 calls', async () => {
    const server = await start();
    expect((await batch(server, byIds(10))).status).toBe(200);
    expect((await batch(server, byIds(11))).status).toBe(400);
  });

  it('without a valid key are refused once, as a whole: one 401 body, one failed authentication counted', async () => {
    const server = await start({ AUTH_FAILURE_BURST: '2', AUTH_FAILURE_PER_SECOND: '0.01' });
    for (const key of [null, 'guess-1']) {
      const refused = await batch(server, byIds(10), key);
      expect(refused.status).toBe(401);
      expect(Array.isArray(refused.body)).toBe(false);
      expect(refused.body).toMatchObject({ error: { data: { code: 'UNAUTHORIZED', httpStatus: 401 } } });
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="composure"');
    }
    // Two batches of ten calls were two failures: the third spends the address's budget.
    const third = await batch(server, byIds(10), 'guess-2');
    expect(third.status).toBe(429);
    expect(Array.isArray(third.body)).toBe(false);
  });

  it('refused as a whole fail every call of the tRPC batch link with the 401', async () => {
    const server = await start();
    const client = createTRPCClient<AppRouter>({ links: [httpBatchLink({ url: `${server.url}/trpc`, headers: { authorization: 'Bearer nope' } })] });
    const results = await Promise.allSettled([client.users.byId.query({ id: 1 }), client.users.byId.query({ id: 2 })]);
    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = result.status === 'rejected' ? (result.reason as unknown) : undefined;
      expect(reason).toBeInstanceOf(TRPCClientError);
      expect((reason as TRPCClientError<AppRouter>).data?.httpStatus).toBe(401);
    }
  });

  it('are charged their whole cost up front: one the bucket cannot cover is one 429 that takes nothing', async () => {
    const server = await start({ RATE_LIMIT_BURST: '5', RATE_LIMIT_PER_SECOND: '0.01' });
    const first = await batch(server, byIds(3));
    expect(first.status).toBe(200);
    expect(remaining(first)).toBe('2');
    const second = await batch(server, byIds(3));
    expect(second.status).toBe(429);
    expect(Array.isArray(second.body)).toBe(false);
    expect(second.body).toMatchObject({ error: { data: { code: 'TOO_MANY_REQUESTS', reason: 'rate_limited' } } });
    expect(second.headers.get('retry-after')).toMatch(/^\d+$/);
    // Nothing was taken by the refused batch: two calls still fit.
    expect(remaining(await batch(server, byIds(2)))).toBe('0');
  });

  it('are charged each procedure’s own cost, once', async () => {
    const server = await start({ RATE_LIMIT_BURST: '10', RATE_LIMIT_PER_SECOND: '0.01' });
    const mixed = await batch(server, ['stats.summary', 'users.byId']);
    expect(mixed.status).toBe(200);
    expect(remaining(mixed)).toBe('4');
  });
});
