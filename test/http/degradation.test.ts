import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type CallResult, type TestServer } from '../helpers/server.js';

// Long enough that an answer which waited for it stands apart from one that did not, even on a busy machine.
const TIMEOUT_MS = 500;
const FAILURES = 3;
const HALF_OPEN_MS = 500;
const TTL_MS = 100;
// Scheduling slack for a loaded CI machine; the assertions are about orders of magnitude.
const MARGIN_MS = 400;

const servers: TestServer[] = [];
async function start(): Promise<TestServer> {
  const server = await startTestServer({
    RATES_TIMEOUT_MS: String(TIMEOUT_MS),
    BREAKER_FAILURES: String(FAILURES),
    BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS),
    RATES_TTL_MS: String(TTL_MS),
    RATE_LIMIT_BURST: '100000',
    RATE_LIMIT_PER_SECOND: '10000',
  });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function timed(call: Promise<CallResult>): Promise<CallResult & { ms: number }> {
  const started = performance.now();
  const res = await call;
  return { ...res, ms: performance.now() - started };
}
function simulatorOf(server: TestServer) {
  const { simulator } = server.services;
  if (!simulator) throw new Error('the test server runs the built-in simulator');
  return simulator;
}
async function breakerState(server: TestServer): Promise<string> {
  const body = (await (await fetch(`${server.url}/readyz`)).json()) as { breakers: { rates: string } };
  return body.breakers.rates;
}
const STALE = /^composure; hit; ttl=-\d+$/;

describe('rates.latest when the provider fails', () => {
  it('serves the last good answer, marked stale with Age, within the timeout', async () => {
    const server = await start();
    const fresh = await server.call('rates.latest');
    expect(fresh.status).toBe(200);
    expect(fresh.headers.get('cache-status')).toBe('composure; fwd=miss; stored');
    await sleep(TTL_MS + 50);
    simulatorOf(server).setMode('hang');

    const stale = await timed(server.call('rates.latest'));
    expect(stale.status).toBe(200);
    expect(stale.ms).toBeLessThan(TIMEOUT_MS + MARGIN_MS);
    expect(stale.text).toBe(fresh.text);
    expect(stale.headers.get('cache-status')).toMatch(STALE);
    expect(stale.headers.get('age')).toMatch(/^\d+$/);
    expect(stale.headers.get('etag')).toBe(fresh.headers.get('etag'));
    expect(stale.headers.get('cache-control')).toContain('stale-if-error=');
  });

  it('opens the breaker after N failures, then answers at once without calling the provider, and recovers', async () => {
    const server = await start();
    const simulator = simulatorOf(server);
    await server.call('rates.latest');
    await sleep(TTL_MS + 50);
    simulator.setMode('hang');
    const callsBefore = simulator.calls;

    for (let i = 0; i < FAILURES; i++) {
      const res = await server.call('rates.latest');
      expect(res.headers.get('cache-status')).toMatch(STALE);
    }
    expect(simulator.calls).toBe(callsBefore + FAILURES);
    expect(await breakerState(server)).toBe('open');

    for (let i = 0; i < 5; i++) {
      const res = await timed(server.call('rates.latest'));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-status')).toMatch(STALE);
      // Without the breaker each of these would wait the whole timeout.
      expect(res.ms).toBeLessThan(TIMEOUT_MS);
    }
    expect(simulator.calls).toBe(callsBefore + FAILURES);

    // Recovers by itself: one trial call once the breaker half-opens.
    simulator.setMode('ok');
    await sleep(HALF_OPEN_MS + 50);
    const recovered = await server.call('rates.latest');
    expect(recovered.status).toBe(200);
    expect(recovered.headers.get('cache-status')).toBe('composure; fwd=miss; stored');
    expect(simulator.calls).toBe(callsBefore + FAILURES + 1);
    expect(await breakerState(server)).toBe('closed');
    expect((await server.call('rates.latest')).headers.get('cache-status')).toBe('composure; hit');
  });

  it('answers 503 with Retry-After when no answer was ever stored, to every waiting request', async () => {
    const server = await start();
    simulatorOf(server).setMode('error');
    const answers = await Promise.all(Array.from({ length: 5 }, () => server.call('rates.latest')));
    for (const res of answers) {
      expect(res.status).toBe(503);
      expect(res.body.error?.data.code).toBe('SERVICE_UNAVAILABLE');
      expect(res.body.error?.data.reason).toBe('upstream_unavailable');
      expect(res.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('etag')).toBeNull();
    }
    // Once open, Retry-After points at the half-open trial.
    for (let i = 0; i < FAILURES; i++) await server.call('rates.latest');
    expect(await breakerState(server)).toBe('open');
    const open = await server.call('rates.latest');
    expect(open.status).toBe(503);
    expect(Number(open.headers.get('retry-after'))).toBe(Math.ceil(HALF_OPEN_MS / 1000));
  });
});

describe('other procedures during a provider outage', () => {
  it('answers payments.list as a partial page, never stored', async () => {
    const server = await start();
    simulatorOf(server).setMode('error');
    const first = await server.call('payments.list', { input: { limit: 5 } });
    expect(first.status).toBe(200);
    const page = first.body.result?.data as { data: Array<{ amountInBase: number | null }>; degraded?: string[] };
    expect(page.degraded).toEqual(['rates']);
    expect(page.data.length).toBe(5);
    expect(page.data.every((p) => p.amountInBase === null)).toBe(true);
    expect(first.headers.get('cache-status')).toBe('composure; fwd=miss');
    const second = await server.call('payments.list', { input: { limit: 5 } });
    expect(second.headers.get('cache-status')).toBe('composure; fwd=miss');
  });

  it('fills amountInBase again once the rates are back', async () => {
    const server = await start();
    simulatorOf(server).setMode('error');
    await server.call('payments.list', { input: { limit: 5 } });
    simulatorOf(server).setMode('ok');
    const res = await server.call('payments.list', { input: { limit: 5 } });
    const page = res.body.result?.data as { data: Array<{ amountInBase: number | null }>; degraded?: string[] };
    expect(page.degraded).toBeUndefined();
    expect(page.data.every((p) => typeof p.amountInBase === 'number')).toBe(true);
  });

  it('keeps users, stats and readiness answering at full speed while the provider hangs', async () => {
    const server = await start();
    simulatorOf(server).setMode('hang');
    const [users, stats] = await Promise.all([
      timed(server.call('users.list', { input: { limit: 5 } })),
      timed(server.call('stats.summary')),
      // Pending on the provider meanwhile: must not hold the others up.
      server.call('rates.latest'),
    ]);
    expect(users.status).toBe(200);
    expect(stats.status).toBe(200);
    expect(users.ms).toBeLessThan(TIMEOUT_MS);
    expect(stats.ms).toBeLessThan(TIMEOUT_MS);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('creates a payment with amountInBase null when no rates can be had', async () => {
    const server = await start();
    simulatorOf(server).setMode('error');
    const res = await server.call('payments.create', {
      method: 'POST',
      input: { userId: 1, amountCents: 500, currency: 'EUR' },
      headers: { 'idempotency-key': 'outage-payment-1' },
    });
    expect(res.status).toBe(200);
    expect((res.body.result?.data as { amountInBase: number | null }).amountInBase).toBeNull();
  });
});
