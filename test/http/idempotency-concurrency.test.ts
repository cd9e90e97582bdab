import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint } from '../../server/idempotency/fingerprint.js';
import { startTestServer, type CallResult, type TestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const payment = (overrides: Record<string, unknown> = {}) => ({ userId: 1, amountCents: 2500, currency: 'EUR', ...overrides });

function create(s: TestServer, key: string, input: unknown): Promise<CallResult> {
  return s.call('payments.create', { method: 'POST', input, headers: { 'idempotency-key': key } });
}

const payments = (s: TestServer) => (s.services.sqlite.prepare('SELECT count(*) AS n FROM payments').get() as { n: number }).n;
const keyState = (s: TestServer, key: string) =>
  (s.services.sqlite.prepare('SELECT state FROM idempotency_keys WHERE key = ?').get(key) as { state: string } | undefined)?.state;

/** Polls (bounded) until the key's claim is in the table: the first request is then inside its handler. */
async function untilInFlight(s: TestServer, key: string): Promise<void> {
  for (let i = 0; i < 300 && keyState(s, key) !== 'in_flight'; i++) await new Promise((r) => setTimeout(r, 10));
  expect(keyState(s, key)).toBe('in_flight');
}

describe('concurrent requests with one key', () => {
  it('answers 409 with Retry-After: 1 while the first request waits on a slow provider, then replays its answer', async () => {
    // The simulator answers in 2 s in slow mode; the timeout must outlast it so the call is truly in flight.
    const s = (server = await startTestServer({ RATES_TIMEOUT_MS: '5000' }));
    s.services.simulator?.setMode('slow');
    const firstPending = create(s, 'slow-1', payment());
    await untilInFlight(s, 'slow-1');
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
    const before = payments(s);
    const results = await Promise.all(Array.from({ length: 200 }, () => create(s, 'storm-1', payment({ amountCents: 9001 }))));
    expect(payments(s)).toBe(before + 1);
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

describe('abandoned claims', () => {
  function insertClaim(s: TestServer, key: string, input: unknown, lockedAt: number) {
    s.services.sqlite
      .prepare(
        `INSERT INTO idempotency_keys (tenant_id, procedure, key, fingerprint, state, locked_at, created_at)
         VALUES (1, 'payments.create', ?, ?, 'in_flight', ?, ?)`,
      )
      .run(key, fingerprint(input), lockedAt, lockedAt);
  }

  it('takes over a claim older than IDEMPOTENCY_LOCK_MS and runs the request', async () => {
    const s = (server = await startTestServer({ IDEMPOTENCY_LOCK_MS: '30000' }));
    const input = payment({ amountCents: 1234 });
    insertClaim(s, 'abandoned-1', input, Date.now() - 30_001);
    const before = payments(s);
    const res = await create(s, 'abandoned-1', input);
    expect(res.status).toBe(200);
    expect(res.headers.get('idempotent-replayed')).toBeNull();
    expect(keyState(s, 'abandoned-1')).toBe('done');
    expect(payments(s)).toBe(before + 1);
  });

  it('does not take over a claim younger than IDEMPOTENCY_LOCK_MS', async () => {
    const s = (server = await startTestServer({ IDEMPOTENCY_LOCK_MS: '30000' }));
    const input = payment({ amountCents: 1235 });
    insertClaim(s, 'held-1', input, Date.now());
    const res = await create(s, 'held-1', input);
    expect(res.status).toBe(409);
    expect(keyState(s, 'held-1')).toBe('in_flight');
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
