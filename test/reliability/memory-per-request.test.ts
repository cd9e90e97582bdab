import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { keepAliveAgent, queryPath, send } from './support/http.js';

// A full collection on demand, so what is measured is what stays reachable;
// and no bytecode flushing, which frees the start-up code a few collections
// later and would hide a segment's growth.
setFlagsFromString('--expose-gc');
setFlagsFromString('--no-flush-bytecode');
const gc = runInNewContext('gc') as () => void;

const SEGMENT = 3_000;
const WARMUP_SEGMENTS = 2;
const MEASURED_SEGMENTS = 4;
const CONCURRENCY = 8;
// Bytes a request may leave behind, as the median over the segments. The
// heap after a full collection wanders by a few hundred kilobytes here (the
// client shares the process), under 100 bytes a request over a segment; a
// leak of 512 bytes a request is 1.5 MB a segment.
const BYTES_PER_REQUEST_LIMIT = 256;

function retainedBytes(): number {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SECOND: '1000000' });
});
afterAll(() => server.close());

describe('memory per request', () => {
  it('keeps nothing per request: heap + external after a full GC stay flat across segments of mixed requests', async () => {
    const agent = keepAliveAgent(CONCURRENCY);
    // A fixed mix, so the caches fill during the warm-up and then only hit:
    // the cache fast path, the lean path, the adapter, keyed writes (a new key
    // each time, stored in SQLite, not in memory) and their replays.
    let created = 0;
    const create = (key: string) => ({
      origin: server.url,
      agent,
      path: '/trpc/payments.create',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
      body: JSON.stringify({ userId: 1, amountCents: 100, currency: 'EUR' }),
    });
    // Answered before the load starts, so every later use of the key is a replay.
    expect((await send({ ...create('mem-replayed'), headers: { ...create('mem-replayed').headers, authorization: 'Bearer demo-alice' } })).ok).toBe(true);
    const requests: Array<() => Parameters<typeof send>[0]> = [
      () => ({ origin: server.url, agent, path: queryPath('users.byId', { id: 1 + (created % 10) }) }),
      () => ({ origin: server.url, agent, path: queryPath('users.list', { limit: 10 }) }),
      () => ({ origin: server.url, agent, path: queryPath('payments.list', { limit: 5 }) }),
      () => ({ origin: server.url, agent, path: queryPath('stats.summary') }),
      () => ({ origin: server.url, agent, path: queryPath('users.byId', { id: 999_999 }) }),
      () => create(`mem-${created++}`),
      () => create('mem-replayed'),
    ];
    const statuses = new Map<number | string, number>();
    async function segment(): Promise<void> {
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < SEGMENT) {
            const make = requests[next++ % requests.length]!;
            const opts = make();
            const out = await send({ ...opts, headers: { authorization: 'Bearer demo-alice', ...opts.headers } });
            const label = out.ok ? out.status : out.error;
            statuses.set(label, (statuses.get(label) ?? 0) + 1);
          }
        }),
      );
    }
    try {
      for (let i = 0; i < WARMUP_SEGMENTS; i++) await segment();
      const samples = [retainedBytes()];
      for (let i = 0; i < MEASURED_SEGMENTS; i++) {
        await segment();
        samples.push(retainedBytes());
      }
      const perRequest = samples.slice(1).map((bytes, i) => (bytes - samples[i]!) / SEGMENT);
      const median = [...perRequest].sort((a, b) => a - b)[Math.floor(perRequest.length / 2)]!;
      console.log(`[memory] bytes kept per request, by segment: ${perRequest.map((b) => b.toFixed(1)).join(', ')}; median ${median.toFixed(1)}`);
      expect([...statuses.keys()].sort()).toEqual([200, 404]);
      expect(median).toBeLessThan(BYTES_PER_REQUEST_LIMIT);
    } finally {
      agent.destroy();
    }
  }, 300_000);
});
