import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint } from '../../server/idempotency/fingerprint.js';
import { startTestServer, type CallResult, type TestServer } from '../helpers/server.js';
import { onPostgres } from '../helpers/dialect.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const payment = (overrides: Record<string, unknown> = {}) => ({ userId: 1, amountCents: 2500, currency: 'EUR', ...overrides });

function create(s: TestServer, key: string, input: unknown): Promise<CallResult> {
  return s.call('payments.create', { method: 'POST', input, headers: { 'idempotency-key': key } });
}

const payments = async (s: TestServer) => Number((await s.services.database.query<{ n: number }>('SELECT count(*) AS n FROM payments'))[0]?.n);
const keyState = async (s: TestServer, key: string) =>
  (await s.services.database.query<{ state: string }>('SELECT state FROM idempotency_keys WHERE key = ?', [key]))[0]?.state;
const scopeOf = (key: string) => ({ tenantId: 1, procedure: 'payments.create', key });

/** Polls (bounded) until a running request holds the key: it is then inside its handler, which writes nothing yet. */
async function untilHeld(s: TestServer, key: string): Promise<void> {
  for (let i = 0; i < 300 && !s.services.idempotency.isHeld(scopeOf(key)); i++) await new Promise((r) => setTimeout(r, 10));
  expect(s.services.idempotency.isHeld(scopeOf(key))).toBe(true);
  expect(await keyState(s, key)).toBeUndefined();
}

/** Polls (bounded) until the simulator has been called `n` times: the handler is then waiting on it. */
async function untilProviderCalls(s: TestServer, n: number): Promise<void> {
  for (let i = 0; i < 300 && (s.services.simulator?.calls ?? 0) < n; i++) await new Promise((r) => setTimeout(r, 10));
  expect(s.services.simulator?.calls).toBeGreaterThanOrEqual(n);
}

describe('concurrent requests with one key', () => {
  it('answers 409 with Retry-After: 1 while the first request waits on a slow provider, then replays its answer', async () => {
    // The simulator answers in 2 s in slow mode; the timeout must outlast it so the call is truly in flight.
    const s = (server = await startTestServer({ RATES_TIMEOUT_MS: '5000' }));
    s.services.simulator?.setMode('slow');
    const firstPending = create(s, 'slow-1', payment());
    await untilHeld(s, 'slow-1');
    const during = await create(s, 'slow-1', payment());
    expect(during.status).toBe(409);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(during.body.error?.data).toMatchObject({
      code: 'CONFLICT',
      reason: 'idempotency_in_flight',
      retryAfterMs: 1000,
    });
    const first = await firstPending;
    expect(first.status).toBe(200);
    const after = await create(s, 'slow-1', payment());
    expect(after.headers.get('idempotent-replayed')).toBe('true');
    expect(after.text).toBe(first.text);
  });

  it('makes exactly one payment out of 200 concurrent requests with one key', async () => {
    // The winner's handler waits on the slow provider until RATES_TIMEOUT_MS, a real I/O wait between
    // its claim and its write, while the other 199 arrive.
    const s = (server = await startTestServer({ RATE_LIMIT_BURST: '1000', RATES_TIMEOUT_MS: '250' }));
    s.services.simulator?.setMode('slow');
    const before = await payments(s);
    const results = await Promise.all(Array.from({ length: 200 }, () => create(s, 'storm-1', payment({ amountCents: 9001 }))));
    expect(await payments(s)).toBe(before + 1);
    const ok = results.filter((r) => r.status === 200);
    const conflicts = results.filter((r) => r.status === 409);
    expect(ok.length + conflicts.length).toBe(200);
    expect(ok.filter((r) => r.headers.get('idempotent-replayed') === null)).toHaveLength(1);
    expect(new Set(ok.map((r) => r.text)).size).toBe(1);
    expect(conflicts.every((r) => r.headers.get('retry-after') === '1')).toBe(true);
    // Every one of them now replays the one answer.
    const after = await create(s, 'storm-1', payment({ amountCents: 9001 }));
    expect(after.text).toBe(ok[0]?.text);
  });
});

describe('claims that overrun the lock, and answers stored by another process', () => {
  // SQLite holds claims in the process: a retry past the lock takes the key over from the hung handler.
  it.skipIf(onPostgres)("takes over the claim of a handler hanging past IDEMPOTENCY_LOCK_MS and rolls back the late holder's write", async () => {
    // The first handler waits 2 s on the slow provider, far past the 200 ms lock.
    const s = (server = await startTestServer({ IDEMPOTENCY_LOCK_MS: '200', RATES_TIMEOUT_MS: '5000' }));
    s.services.simulator?.setMode('slow');
    const input = payment({ amountCents: 1234 });
    const before = await payments(s);
    const latePending = create(s, 'overrun-1', input);
    await untilHeld(s, 'overrun-1');
    // Inside the lock the key is still the first request's.
    expect((await create(s, 'overrun-1', input)).status).toBe(409);
    await new Promise((r) => setTimeout(r, 250));
    // Past it, a retry takes the key over (it waits on the same provider call, and resumes after the first).
    const [late, retry] = await Promise.all([latePending, create(s, 'overrun-1', input)]);
    expect(late.status).toBe(409);
    expect(late.headers.get('retry-after')).toBe('1');
    expect(late.body.error?.data).toMatchObject({ code: 'CONFLICT', reason: 'idempotency_in_flight' });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await payments(s)).toBe(before + 1);
    const again = await create(s, 'overrun-1', input);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.text).toBe(retry.text);
  });

  // PostgreSQL ends the session of a claim idle past the lock by itself (idle_in_transaction_session_timeout).
  it.runIf(onPostgres)("ends the claim of a handler idle past IDEMPOTENCY_LOCK_MS, rolls its write back and lets the retry run", async () => {
    const s = (server = await startTestServer({ IDEMPOTENCY_LOCK_MS: '200', RATES_TIMEOUT_MS: '5000' }));
    s.services.simulator?.setMode('slow');
    const input = payment({ amountCents: 4321 });
    const before = await payments(s);
    const latePending = create(s, 'overrun-pg-1', input);
    await untilHeld(s, 'overrun-pg-1');
    expect((await create(s, 'overrun-pg-1', input)).status).toBe(409);
    // The handler waits 2 s on the provider, idle inside its transaction far past the 200 ms lock.
    const late = await latePending;
    expect(late.status).toBe(409);
    expect(late.headers.get('retry-after')).toBe('1');
    expect(late.body.error?.data).toMatchObject({ code: 'CONFLICT', reason: 'idempotency_in_flight' });
    expect(await payments(s)).toBe(before);
    expect(await s.postgres?.leftovers()).toEqual({ advisoryLocks: 0, idleInTransaction: 0 });
    s.services.simulator?.setMode('ok');
    const retry = await create(s, 'overrun-pg-1', input);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(await payments(s)).toBe(before + 1);
  });

  // Another process writing the same SQLite file: PostgreSQL's instances are covered by test/scale/postgres-instances.test.ts.
  it.skipIf(onPostgres)("lets an answer another process stored between claim and commit win: the effect is rolled back, 409, and the retry replays it", async () => {
    const s = (server = await startTestServer({ RATES_TIMEOUT_MS: '5000' }));
    s.services.simulator?.setMode('slow');
    const input = payment({ amountCents: 4321 });
    const before = await payments(s);
    const calls = s.services.simulator?.calls ?? 0;
    const pending = create(s, 'elsewhere-1', input);
    await untilProviderCalls(s, calls + 1);
    expect(s.services.idempotency.isHeld(scopeOf('elsewhere-1'))).toBe(true);
    // Another worker of a cluster, through its own connection to the same file, answers the key first.
    const theirs = '{"result":{"data":{"answeredBy":"another process"}}}';
    const other = new Database(s.dbFile);
    try {
      other
        .prepare(
          `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, response_status, response_body, locked_at, created_at)
           VALUES (1, 'payments.create', 'elsewhere-1', ?, 'done', 200, ?, ?, ?)`,
        )
        .run(fingerprint(input), theirs, Date.now(), Date.now());
    } finally {
      other.close();
    }
    const ours = await pending;
    expect(ours.status).toBe(409);
    expect(ours.headers.get('retry-after')).toBe('1');
    expect(ours.body.error?.data).toMatchObject({ code: 'CONFLICT', reason: 'idempotency_in_flight' });
    expect(await payments(s)).toBe(before);
    expect(s.services.idempotency.isHeld(scopeOf('elsewhere-1'))).toBe(false);
    const retry = await create(s, 'elsewhere-1', input);
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.text).toBe(theirs);
  });

  it('frees the key of a request whose handler failed unexpectedly, so its retry runs at once', async () => {
    const s = (server = await startTestServer());
    const store = s.services.idempotency;
    const commit = store.commit;
    store.commit = (claim, _effect, encode) =>
      commit(claim, async () => {
        throw new Error('disk on fire');
      }, encode);
    try {
      expect((await create(s, 'freed-1', payment())).status).toBe(500);
    } finally {
      store.commit = commit;
    }
    expect(s.services.idempotency.isHeld(scopeOf('freed-1'))).toBe(false);
    expect((await create(s, 'freed-1', payment())).status).toBe(200);
  });
});

describe('rate limits on replays', () => {
  it('counts a replay against the rate limit like any call', async () => {
    const s = (server = await startTestServer({ RATE_LIMIT_BURST: '3', RATE_LIMIT_PER_SECOND: '0.1' }));
    const first = await create(s, 'limited-1', payment());
    const replays = [await create(s, 'limited-1', payment()), await create(s, 'limited-1', payment())];
    expect(replays.map((r) => r.headers.get('idempotent-replayed'))).toEqual(['true', 'true']);
    expect(replays.map((r) => /r=(\d+)/.exec(r.headers.get('ratelimit') ?? '')?.[1])).toEqual(['1', '0']);
    const limited = await create(s, 'limited-1', payment());
    expect(limited.status).toBe(429);
    expect(limited.headers.get('idempotent-replayed')).toBeNull();
    expect(first.status).toBe(200);
  });
});
