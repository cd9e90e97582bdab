import { afterEach, describe, expect, it } from 'vitest';
import { createClient, isAbortError, type RetryEvent } from '../../client/index.js';
import { Pacer, resolvePacing } from '../../client/links/internals/pacer.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startProxy, trpcError, type LoopbackProxy } from './helpers/proxy.js';

const disposers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const dispose of disposers.splice(0).reverse()) await dispose();
});

async function serverWithProxy(env: Record<string, string> = {}): Promise<{ server: TestServer; proxy: LoopbackProxy }> {
  const server = await startTestServer(env);
  disposers.push(() => server.close());
  const proxy = await startProxy(server.url);
  disposers.push(() => proxy.close());
  return { server, proxy };
}


describe('the shared pause', () => {
  it('holds 20 concurrent calls made after a 429 until Retry-After, instead of earning 20 more 429s', async () => {
    // q=5, w=1 is announced; the bucket really refills at 10/s.
    const { proxy } = await serverWithProxy({ RATE_LIMIT_BURST: '5', RATE_LIMIT_PER_SECOND: '10' });
    let firstRetry!: () => void;
    const paused = new Promise<void>((resolve) => (firstRetry = resolve));
    const events: RetryEvent[] = [];
    const client = createClient({
      url: proxy.url,
      apiKey: 'demo-alice',
      retry: {
        onRetry: (e) => {
          events.push(e);
          firstRetry();
        },
      },
    });

    // Spend the bucket one call at a time until a call meets the 429 (its
    // retry is then scheduled and the client paused). Refills make the
    // count vary, so the loop, not a fixed number, decides.
    let first: Promise<unknown> | undefined;
    for (let i = 0; i < 50 && !first; i++) {
      const call = client.users.byId.query({ id: 1 });
      if ((await Promise.race([call.then(() => 'ok'), paused.then(() => 'paused')])) === 'paused') first = call;
    }
    const before = proxy.log.filter((e) => e.status === 200).length;
    const pausedAt = performance.now();
    const rest = await Promise.all(Array.from({ length: 20 }, (_, i) => client.users.byId.query({ id: (i % 5) + 1 })));
    await first;

    expect(rest).toHaveLength(20);
    const rejected = proxy.log.filter((e) => e.status === 429);
    expect(rejected.length).toBeLessThanOrEqual(3);
    expect(proxy.log.filter((e) => e.status === 200)).toHaveLength(before + 21);
    // Nothing left the client while paused (Retry-After: 1).
    const sentDuringPause = proxy.log.filter((e) => e.receivedAt > pausedAt && e.receivedAt < pausedAt + 900);
    expect(sentDuringPause).toEqual([]);
    expect(events[0]).toMatchObject({ delayMs: 1000, source: 'retry-after' });
  });

  it('rejects a call queued behind a pause at once when its signal aborts', async () => {
    const { proxy } = await serverWithProxy();
    let first = true;
    proxy.handle = () => {
      if (!first) return 'forward';
      first = false;
      return { status: 429, headers: { 'retry-after': '30' }, body: trpcError(429, 'TOO_MANY_REQUESTS', 'slow down') };
    };
    // maxAttempts 1: the 429 reaches its caller at once, and the client stays paused for 30 s.
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', retry: { maxAttempts: 1 } });
    await expect(client.users.list.query({})).rejects.toThrow('slow down');

    const ac = new AbortController();
    const queued = client.users.list.query({}, { signal: ac.signal }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    // "At once" as an order of events: settled before the loop's next turn, not when the pause ends.
    let turnAfterAbort = false;
    setImmediate(() => (turnAfterAbort = true));
    const error = await queued;
    expect(turnAfterAbort).toBe(false);
    expect(isAbortError(error)).toBe(true);
    expect(proxy.log).toHaveLength(1);
  });
});

describe('pacing', () => {
  it('caps requests in flight at pacing.maxConcurrent', async () => {
    const { proxy } = await serverWithProxy();
    proxy.handle = async () => {
      await new Promise((r) => setTimeout(r, 30));
      return 'forward' as const;
    };
    const client = createClient({ url: proxy.url, apiKey: 'demo-alice', pacing: { maxConcurrent: 2 } });
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.users.byId.query({ id: i + 1 })));
    expect(proxy.log).toHaveLength(8);
    expect(proxy.maxInFlight).toBe(2);
  });

  it('spaces request starts by pacing.minTimeMs', async () => {
    const { proxy } = await serverWithProxy();
    // Timed where the request starts (the fetch call), not where it lands: connection set-up varies.
    const starts: number[] = [];
    const client = createClient({
      url: proxy.url,
      apiKey: 'demo-alice',
      pacing: { minTimeMs: 40 },
      fetch: (url, init) => {
        starts.push(performance.now());
        return fetch(url, init);
      },
    });
    await Promise.all(Array.from({ length: 4 }, (_, i) => client.users.byId.query({ id: i + 1 })));
    expect(starts).toHaveLength(4);
    // bottleneck spaces the schedule, so one late timer shortens the next gap: check the span. Each gap may
    // also read a few ms short on this clock (timers run on libuv's loop time, read once per turn, and bottleneck
    // counts in Date.now()): 113.8 ms was seen on a loaded machine. Unpaced, the four start within a millisecond.
    expect((starts[3] ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(3 * 40 - 15);
  });
});

describe('Pacer', () => {
  it('is disengaged while neither paced nor paused, so calls skip bottleneck', () => {
    const pacer = new Pacer(null);
    expect(pacer.engaged).toBe(false);
    expect(pacer.mode).toBe('open');
    expect(new Pacer(resolvePacing({ maxConcurrent: 1 })).engaged).toBe(true);
  });

  it('holds jobs until the pause ends, spaces them at the announced rate, then opens again', async () => {
    const pacer = new Pacer(null);
    const pausedAt = Date.now();
    pacer.pause(pausedAt + 150, { quota: 10, windowSeconds: 1 });
    expect(pacer.mode).toBe('paused');
    const started: number[] = [];
    await Promise.all(
      Array.from(
        { length: 3 },
        () =>
          new Promise<void>((done) =>
            pacer.schedule(async () => {
              started.push(Date.now());
              done();
            }),
          ),
      ),
    );
    expect(started[0]! - pausedAt).toBeGreaterThanOrEqual(145);
    // 10 per second announced: starts 100 ms apart on bottleneck's schedule
    // (a late timer shortens the next gap, so the span is what is checked).
    expect(started[2]! - started[0]!).toBeGreaterThanOrEqual(195);
    await new Promise((r) => setTimeout(r, 20));
    expect(pacer.mode).toBe('open');
    expect(pacer.engaged).toBe(false);
    pacer.dispose();
  });

  it('refuses bad pacing options, naming them', () => {
    expect(() => resolvePacing({ maxConcurrent: 0 })).toThrow(/pacing\.maxConcurrent/);
    expect(() => resolvePacing({ minTimeMs: -1 })).toThrow(/pacing\.minTimeMs/);
  });
});
