import type { Operation } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient, isThrottledError, isUnavailableError, ThrottledError, type RetryEvent } from '../../client/index.js';
import { AdaptiveThrottle, adaptiveThrottleLink, resolveThrottle } from '../../client/links/adaptive-throttle.js';
import { fetchLink } from '../../client/links/fetch.js';
import { endingWith, observeLink } from './helpers/observe-link.js';

const OVERLOADED = {
  error: {
    message: 'The server is at capacity; retry after 1 s.',
    code: -32603,
    data: { code: 'SERVICE_UNAVAILABLE', httpStatus: 503, path: 'users.byId', reason: 'overloaded', retryAfterMs: 1000 },
  },
};
const USER = { result: { data: { id: 1, name: 'Ada', email: 'ada@example.com', createdAt: '2026-01-01T00:00:00.000Z' } } };

/** A server answering from a script: each call takes the next answer, the last one repeating. */
function scripted(...answers: ('overloaded' | 'ok')[]) {
  const sent: string[] = [];
  const fetch = async (url: string) => {
    sent.push(url);
    const answer = answers[Math.min(sent.length - 1, answers.length - 1)];
    if (answer === 'overloaded') {
      return new Response(JSON.stringify(OVERLOADED), { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1', 'cache-control': 'no-store' } });
    }
    return new Response(JSON.stringify(USER), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { fetch, sent };
}

describe('AdaptiveThrottle', () => {
  it('does not count requests still in flight: a burst is not taken for refusals', () => {
    const throttle = new AdaptiveThrottle(resolveThrottle({ minRequests: 0 }), { now: () => 0, random: () => 0 });
    for (let i = 0; i < 50; i++) expect(throttle.admit()).toBe(0);
    expect(throttle.rejectProbability).toBe(0);
  });

  it('refuses nothing while the server accepts at least one request in K', () => {
    const clock = { t: 0 };
    const throttle = new AdaptiveThrottle(resolveThrottle({ k: 2 }), { now: () => clock.t, random: () => 0 });
    for (let i = 0; i < 100; i++) {
      expect(throttle.admit()).toBe(0);
      throttle.record(i % 2 === 0);
    }
    expect(throttle.rejectProbability).toBe(0);
  });

  it('refuses with probability (requests − K·accepts) / (requests + 1) once the server rejects', () => {
    const throttle = new AdaptiveThrottle(resolveThrottle({ k: 2, minRequests: 0 }), { now: () => 0, random: () => 0.999 });
    for (let i = 0; i < 9; i++) throttle.record(false);
    throttle.record(true);
    expect(throttle.rejectProbability).toBeCloseTo((10 - 2) / 11, 10);
  });

  it('counts local refusals as requests, and forgets everything older than the window', () => {
    const clock = { t: 0 };
    const throttle = new AdaptiveThrottle(resolveThrottle({ windowMs: 120_000, minRequests: 0 }), { now: () => clock.t, random: () => 0 });
    expect(throttle.admit()).toBe(0);
    throttle.record(false);
    // p = 1/2 now; random() = 0 < p: refused, and counted.
    expect(throttle.admit()).toBeCloseTo(1 / 2, 10);
    expect(throttle.rejectProbability).toBeCloseTo(2 / 3, 10);
    clock.t += 60_000;
    expect(throttle.rejectProbability).toBeCloseTo(2 / 3, 10);
    clock.t += 60_000;
    expect(throttle.rejectProbability).toBe(0);
  });

  it('refuses nothing while its window holds fewer than minRequests', () => {
    const throttle = new AdaptiveThrottle(resolveThrottle({ minRequests: 20 }), { now: () => 0, random: () => 0 });
    for (let i = 0; i < 19; i++) {
      expect(throttle.admit()).toBe(0);
      throttle.record(false);
    }
    expect(throttle.admit()).toBe(0);
    throttle.record(false);
    expect(throttle.admit()).toBeGreaterThan(0.9);
  });

  it('refuses bad options, naming them', () => {
    expect(() => resolveThrottle({ k: 0.5 })).toThrow(/throttle\.k/);
    expect(() => resolveThrottle({ k: Infinity })).toThrow(/throttle\.k/);
    expect(() => resolveThrottle({ windowMs: 10 })).toThrow(/throttle\.windowMs/);
    expect(() => resolveThrottle({ windowMs: Infinity })).toThrow(/throttle\.windowMs/);
    expect(() => resolveThrottle({ minRequests: 2.5 })).toThrow(/throttle\.minRequests must be an integer/);
    expect(() => resolveThrottle({ minRequests: -1 })).toThrow(/throttle\.minRequests/);
    expect(() => createClient({ url: 'http://127.0.0.1:1', apiKey: 'k', throttle: 'on' as never })).toThrow(/throttle/);
  });

  it('accepts the bounds themselves: k = 1 and a one-second window', () => {
    expect(resolveThrottle({ k: 1, windowMs: 1000 })).toEqual({ k: 1, windowMs: 1000, minRequests: 20 });
  });

  it('sends a request whose random draw equals the refusal probability: it refuses below p only', () => {
    const throttle = new AdaptiveThrottle(resolveThrottle({ minRequests: 0 }), { now: () => 0, random: () => 0.5 });
    throttle.record(false);
    expect(throttle.rejectProbability).toBe(0.5);
    expect(throttle.admit()).toBe(0);
  });

  it('forgets old accepts with the requests they answered', () => {
    const clock = { t: 0 };
    const throttle = new AdaptiveThrottle(resolveThrottle({ windowMs: 120_000, minRequests: 0 }), { now: () => clock.t, random: () => 0.999 });
    for (let i = 0; i < 5; i++) throttle.record(true);
    clock.t += 120_000;
    for (let i = 0; i < 3; i++) throttle.record(false);
    // Only the three rejections are left: 3 / 4.
    expect(throttle.rejectProbability).toBeCloseTo(3 / 4, 10);
  });

  it('keeps its counts when the clock steps back, and still forgets them a window after they were made', () => {
    // Date.now() can jump back (a clock set by NTP): buckets already counted must not be taken for old ones.
    const clock = { t: 60_000 };
    const throttle = new AdaptiveThrottle(resolveThrottle({ windowMs: 120_000, minRequests: 0 }), { now: () => clock.t, random: () => 0.999 });
    throttle.record(false);
    clock.t = 0;
    expect(throttle.rejectProbability).toBeCloseTo(1 / 2, 10);
    clock.t = 60_000;
    expect(throttle.rejectProbability).toBeCloseTo(1 / 2, 10);
    clock.t = 180_000;
    expect(throttle.rejectProbability).toBe(0);
  });
});

describe('the client under overload', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries an overload 503 after its Retry-After, spread over the second after it', async () => {
    const server = scripted('overloaded', 'ok');
    const retries: RetryEvent[] = [];
    const client = createClient({ url: 'http://127.0.0.1:1', apiKey: 'demo-alice', fetch: server.fetch, retry: { onRetry: (e) => retries.push(e) } });
    const call = client.users.byId.query({ id: 1 });
    await vi.advanceTimersByTimeAsync(999);
    expect(server.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1001);
    await expect(call).resolves.toMatchObject({ id: 1 });
    expect(server.sent).toHaveLength(2);
    expect(retries).toHaveLength(1);
    expect(retries[0]?.source).toBe('retry-after');
    expect(retries[0]?.delayMs).toBeGreaterThanOrEqual(1000);
    expect(retries[0]?.delayMs).toBeLessThan(2000);
  });

  it('holds its other calls while it waits out an overload 503, as for a 429', async () => {
    const server = scripted('overloaded', 'ok');
    // The throttle off: one refusal in two calls would already let it refuse the second.
    const client = createClient({ url: 'http://127.0.0.1:1', apiKey: 'demo-alice', fetch: server.fetch, retry: { maxAttempts: 1 }, throttle: false });
    const first = client.users.byId.query({ id: 1 }).catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(0);
    expect(isUnavailableError(await first)).toBe(true);
    const second = client.users.byId.query({ id: 1 });
    await vi.advanceTimersByTimeAsync(999);
    expect(server.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1001);
    await expect(second).resolves.toMatchObject({ id: 1 });
    expect(server.sent).toHaveLength(2);
  });

  it('stops sending most calls when the server keeps refusing, and says so with ThrottledError', async () => {
    const server = scripted('overloaded');
    const client = createClient({ url: 'http://127.0.0.1:1', apiKey: 'demo-alice', fetch: server.fetch, retry: { maxAttempts: 1 } });
    const errors: unknown[] = [];
    for (let i = 0; i < 100; i++) {
      errors.push(await client.users.byId.query({ id: 1 }).catch((e: unknown) => e));
      // Past the pause each refusal starts, so only the throttle holds calls back.
      await vi.advanceTimersByTimeAsync(2000);
    }
    const refused = errors.filter(isThrottledError);
    // All refused by the server: the first 20 go out, then the n-th with probability 1/(n+1): about 20 + ln(100/20) ≈ 22.
    expect(server.sent.length).toBeLessThan(40);
    expect(refused).toHaveLength(100 - server.sent.length);
    expect(refused[0]).toBeInstanceOf(ThrottledError);
    expect((refused[0] as ThrottledError).rejectProbability).toBeGreaterThan(0.9);
  });

  it('never retries a call it refused itself', async () => {
    const server = scripted('overloaded');
    const retries: RetryEvent[] = [];
    const client = createClient({ url: 'http://127.0.0.1:1', apiKey: 'demo-alice', fetch: server.fetch, retry: { maxAttempts: 4, onRetry: (e) => retries.push(e) } });
    let throttled: unknown;
    for (let i = 0; i < 50 && throttled === undefined; i++) {
      const call = client.users.byId.query({ id: 1 }).catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(10_000);
      const error = await call;
      if (isThrottledError(error)) throttled = error;
    }
    expect(throttled).toBeInstanceOf(ThrottledError);
    expect(retries.every((r) => !isThrottledError(r.error))).toBe(true);
  });

  it('sends every call with throttle: false', async () => {
    const server = scripted('overloaded');
    const client = createClient({ url: 'http://127.0.0.1:1', apiKey: 'demo-alice', fetch: server.fetch, retry: { maxAttempts: 1 }, throttle: false });
    for (let i = 0; i < 20; i++) {
      await client.users.byId.query({ id: 1 }).catch(() => undefined);
      await vi.advanceTimersByTimeAsync(2000);
    }
    expect(server.sent).toHaveLength(20);
  });
});

// The link on its own, before the client's real fetchLink over a scripted
// fetch, with a throttle the test can read: what each answer counts as.
describe('adaptiveThrottleLink', () => {
  const answers = {
    ok: () => new Response(JSON.stringify(USER), { status: 200, headers: { 'content-type': 'application/json' } }),
    overloaded: () => new Response(JSON.stringify(OVERLOADED), { status: 503, headers: { 'content-type': 'application/json' } }),
    limited: () =>
      new Response(JSON.stringify({ error: { message: 'slow down', code: -32029, data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429 } } }), {
        status: 429,
        headers: { 'content-type': 'application/json', 'retry-after': '1' },
      }),
  };

  let nextId = 0;
  function send(throttle: AdaptiveThrottle, fetch: (url: string, init: RequestInit) => Promise<Response>, signal: AbortSignal | null = null) {
    const last = fetchLink({ url: 'http://127.0.0.1:1/trpc', fetch })({} as never);
    const op: Operation = { id: ++nextId, type: 'query', path: 'users.byId', input: { id: 1 }, context: {}, signal };
    const { events, settled, unsubscribe } = observeLink(adaptiveThrottleLink(throttle)({} as never)({ op, next: endingWith(last) }));
    return { events, settled, unsubscribe };
  }

  // minRequests 0 and a fixed clock: one answer moves the probability, and (requests − 2·accepts)/(requests + 1) says how it was counted.
  const throttle = () => new AdaptiveThrottle(resolveThrottle({ minRequests: 0 }), { now: () => 0, random: () => 0.999 });

  it('counts a completed call as accepted', async () => {
    const t = throttle();
    t.record(false);
    const c = send(t, async () => answers.ok());
    await c.settled;
    expect(c.events).toEqual([{ type: 'next' }, { type: 'complete' }]);
    // 2 requests, 1 accept: 0. Counted as a rejection it would be 2/3.
    expect(t.rejectProbability).toBe(0);
  });

  it('counts an overload 503 and a failed connection as rejections, a 429 as accepted', async () => {
    const overloaded = throttle();
    await send(overloaded, async () => answers.overloaded()).settled;
    expect(overloaded.rejectProbability).toBeCloseTo(1 / 2, 10);

    const unreachable = throttle();
    await send(unreachable, () => Promise.reject(new TypeError('fetch failed'))).settled;
    expect(unreachable.rejectProbability).toBeCloseTo(1 / 2, 10);

    const limited = throttle();
    const c = send(limited, async () => answers.limited());
    await c.settled;
    expect(c.events).toHaveLength(1);
    expect(limited.rejectProbability).toBe(0);
  });

  it('does not count a call aborted by its caller', async () => {
    const t = throttle();
    const ac = new AbortController();
    const c = send(t, (_url, init) => new Promise((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason as Error))), ac.signal);
    ac.abort();
    await c.settled;
    expect(c.events).toHaveLength(1);
    // Counted as a rejection (no status) it would be 1/2.
    expect(t.rejectProbability).toBe(0);
  });

  it('refuses without sending, saying why and with what probability', async () => {
    const t = new AdaptiveThrottle(resolveThrottle({ minRequests: 0 }), { now: () => 0, random: () => 0 });
    t.record(false);
    const sent: string[] = [];
    const c = send(t, async (url) => (sent.push(url), answers.ok()));
    await c.settled;
    expect(sent).toEqual([]);
    const error = (c.events[0] as { error: unknown }).error;
    expect(error).toBeInstanceOf(ThrottledError);
    expect((error as ThrottledError).message).toBe('Refused locally: the server rejected most recent requests (p=0.50).');
  });

  it('unsubscribing tears the request down: its answer reaches neither the caller nor the counts', async () => {
    const t = throttle();
    let answer!: () => void;
    const c = send(t, () => new Promise((resolve) => (answer = () => resolve(answers.overloaded()))));
    await vi.waitFor(() => expect(answer).toBeDefined());
    c.unsubscribe();
    answer();
    await new Promise((r) => setTimeout(r, 20));
    expect(c.events).toEqual([]);
    expect(t.rejectProbability).toBe(0);
  });
});
