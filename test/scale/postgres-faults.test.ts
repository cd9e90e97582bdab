import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type CallResult, type TestServer } from '../helpers/server.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { createTestPostgres, postgresSkipReason, type TestPostgres } from '../helpers/postgres.js';

const skip = postgresSkipReason('postgres faults');

/*
 * The database behind a TCP proxy the test controls: cut off (connections
 * refused, or accepted and never answered), then back. Every request must
 * get an answer, 503 with Retry-After while the database is away, and the
 * server must recover by itself.
 */
describe.skipIf(skip !== null)('PostgreSQL unreachable or saturated', () => {
  let pgdb: TestPostgres;
  let proxy: TcpProxy;
  let server: TestServer;
  const TIMEOUT_MS = 500;

  beforeAll(async () => {
    pgdb = await createTestPostgres();
    const target = new URL(pgdb.url);
    proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
    target.host = `127.0.0.1:${proxy.port}`;
    server = await startTestServer({
      DATABASE_URL: target.toString(),
      DB_TIMEOUT_MS: String(TIMEOUT_MS),
      DB_POOL_SIZE: '2',
      CACHE_ENABLED: 'false',
      RATES_TIMEOUT_MS: '5000',
      // Every write asks the provider (no cached rates), so a hung provider holds its claim.
      RATES_TTL_MS: '0',
      RATE_LIMIT_BURST: '100000',
      RATE_LIMIT_PER_SECOND: '100000',
    });
  });
  afterAll(async () => {
    await server?.close();
    await proxy?.close();
    await pgdb?.drop();
  });

  // Bounded: a hang fails the test instead of stalling it (no timing is asserted).
  const get = (path: string, input?: unknown): Promise<CallResult> => server.call(path, { input });
  const readyz = async () => (await fetch(`${server.url}/readyz`, { signal: AbortSignal.timeout(20 * TIMEOUT_MS) })).status;

  function expectUnavailable(res: CallResult): void {
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.body.error?.data).toMatchObject({ code: 'SERVICE_UNAVAILABLE', reason: 'database_unavailable', retryAfterMs: 1000 });
    expect(res.text).not.toMatch(/ECONN|timeout exceeded|postgres/i);
  }

  it('answers 503 with Retry-After while the database accepts connections and never answers, and recovers by itself', async () => {
    expect((await get('users.byId', { id: 1 })).status).toBe(200);
    proxy.setMode('blackhole');
    expectUnavailable(await get('users.byId', { id: 2 }));
    expectUnavailable(await get('users.list', { limit: 5 }));
    expect(await readyz()).toBe(503);
    proxy.setMode('pass');
    expect((await get('users.byId', { id: 2 })).status).toBe(200);
    expect(await readyz()).toBe(200);
  });

  it('answers 503 while connections are refused, writes included, and recovers by itself', async () => {
    proxy.setMode('refuse');
    expectUnavailable(await get('payments.list', { limit: 5 }));
    const write = await server.call('payments.create', {
      method: 'POST',
      input: { userId: 1, amountCents: 1234, currency: 'EUR' },
      headers: { 'idempotency-key': 'fault-refused-1' },
    });
    expectUnavailable(write);
    proxy.setMode('pass');
    const retried = await server.call('payments.create', {
      method: 'POST',
      input: { userId: 1, amountCents: 1234, currency: 'EUR' },
      headers: { 'idempotency-key': 'fault-refused-1' },
    });
    expect(retried.status).toBe(200);
    expect(await pgdb.leftovers()).toEqual({ advisoryLocks: 0, idleInTransaction: 0 });
  });

  it('answers 503 to a request that finds the pool exhausted by running keyed writes, which still succeed', async () => {
    // The provider never answers: each keyed write waits RATES_TIMEOUT_MS (5 s, ten times DB_TIMEOUT_MS)
    // holding its claim's connection, so the pool of two stays full while the third request waits for one.
    server.services.simulator?.setMode('hang');
    const calls = server.services.simulator?.calls ?? 0;
    const running = [1, 2].map((n) =>
      server.call('payments.create', {
        method: 'POST',
        input: { userId: n, amountCents: 4200 + n, currency: 'EUR' },
        headers: { 'idempotency-key': `fault-pool-${n}` },
      }),
    );
    for (let i = 0; i < 500 && (server.services.simulator?.calls ?? 0) < calls + 1; i++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 500 && !(server.services.idempotency.isHeld({ tenantId: 1, procedure: 'payments.create', key: 'fault-pool-2' })); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expectUnavailable(await get('users.byId', { id: 3 }));
    // Without rates the writes still succeed, as partial answers (amountInBase null).
    for (const res of await Promise.all(running)) expect(res.status).toBe(200);
    server.services.simulator?.setMode('ok');
    expect((await get('users.byId', { id: 3 })).status).toBe(200);
    expect(await pgdb.leftovers()).toEqual({ advisoryLocks: 0, idleInTransaction: 0 });
  });
});
