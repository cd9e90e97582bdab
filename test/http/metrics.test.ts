import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

// Outside development /metrics needs the token (test/http/edge-metrics.test.ts pins who may read it).
const METRICS_TOKEN = 'metrics-test-token-0123456789';
let server: TestServer;
let other: TestServer;
beforeAll(async () => {
  [server, other] = await Promise.all([
    startTestServer({ RATE_LIMIT_BURST: '4', RATE_LIMIT_PER_SECOND: '0.01', METRICS_TOKEN }),
    startTestServer({ METRICS_TOKEN }),
  ]);
});
afterAll(() => Promise.all([server.close(), other.close()]));

async function scrape(target: TestServer): Promise<{ res: Response; values: Map<string, number> }> {
  const res = await fetch(`${target.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  const text = await res.text();
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return { res, values };
}

describe('GET /metrics', () => {
  it('serves Prometheus text, never cached', async () => {
    const { res } = await scrape(server);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('counts requests by procedure and status, cache hits and misses, and rate-limited calls', async () => {
    for (let i = 0; i < 5; i++) await server.call('users.list', { input: { limit: 2 } });
    await server.call('users.nope');
    const { values } = await scrape(server);
    expect(values.get('composure_requests_total{procedure="users.list",status="200"}')).toBe(4);
    expect(values.get('composure_requests_total{procedure="users.list",status="429"}')).toBe(1);
    expect(values.get('composure_requests_total{procedure="unknown",status="404"}')).toBe(1);
    expect(values.get('composure_rate_limited_total')).toBe(1);
    expect(values.get('composure_cache_misses_total')).toBe(1);
    expect(values.get('composure_cache_hits_total')).toBe(3);
    expect(values.get('composure_cache_fast_path_hits_total')).toBe(3);
    expect(values.get('composure_cache_entries')).toBe(1);
    expect(values.get('composure_cache_bytes')).toBeGreaterThan(0);
  });

  it('reports the breaker state as one gauge per state', async () => {
    const { values } = await scrape(server);
    expect(values.get('composure_breaker_state{breaker="rates",state="closed"}')).toBe(1);
    expect(values.get('composure_breaker_state{breaker="rates",state="open"}')).toBe(0);
  });

  it('counts an idempotent replay served over HTTP', async () => {
    const before = (await scrape(other)).values.get('composure_idempotent_replays_total') ?? 0;
    const send = () =>
      other.call('payments.create', {
        method: 'POST',
        input: { userId: 1, amountCents: 321, currency: 'EUR' },
        headers: { 'idempotency-key': 'metrics-replay-1' },
      });
    expect((await send()).status).toBe(200);
    const replay = await send();
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const { values } = await scrape(other);
    expect(values.get('composure_idempotent_replays_total')).toBe(before + 1);
  });

  it('keeps one registry per server', async () => {
    const { values } = await scrape(other);
    expect(values.get('composure_requests_total{procedure="users.list",status="200"}')).toBeUndefined();
    expect(values.get('composure_cache_hits_total')).toBe(0);
    expect((await scrape(server)).values.get('composure_idempotent_replays_total')).toBe(0);
  });
});
