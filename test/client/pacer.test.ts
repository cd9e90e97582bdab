import { TRPCClientError } from '@trpc/client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Pacer, resolvePacing } from '../../client/links/internals/pacer.js';
import type { AppRouter } from '../../server/routers/app.js';

// The Pacer's states on fake timers and its real bottleneck: when a queued
// job starts is a number of milliseconds after the pause, not a timing.

const pacers: Pacer[] = [];
function pacer(...args: ConstructorParameters<typeof Pacer>): Pacer {
  const p = new Pacer(...args);
  pacers.push(p);
  return p;
}

/** An error as the client's fetchLink makes it from an answer. */
function answered(status: number, headers: Record<string, string>, data: Record<string, unknown> = {}) {
  const json = { error: { message: 'refused', code: -32000, data: { code: 'X', httpStatus: status, ...data } } };
  const response = new Response(JSON.stringify(json), { status, headers });
  return TRPCClientError.from<AppRouter>(json, { meta: { response, responseJSON: json } });
}

/** Queues `count` jobs; each records when it started (ms since `from`). */
function queue(p: Pacer, count: number, from: number): number[] {
  const started: number[] = [];
  for (let i = 0; i < count; i++) p.schedule(async () => void started.push(Date.now() - from));
  return started;
}

describe('Pacer on fake timers', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    for (const p of pacers.splice(0)) p.dispose();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('starts paced when pacing is configured', () => {
    const p = pacer(resolvePacing({ maxConcurrent: 2 }));
    expect(p.mode).toBe('paced');
    expect(p.engaged).toBe(true);
  });

  it('is not paused by a 429 without a usable wait, nor by a 503 that is not an overload refusal', () => {
    const p = pacer(null);
    p.observe(answered(429, {}));
    p.observe(answered(429, { 'retry-after': '0' }));
    p.observe(answered(503, { 'retry-after': '5' }, { retryAfterMs: 5000 }));
    expect(p.mode).toBe('open');
    expect(p.engaged).toBe(false);
  });

  it('pauses on an overload 503 until a moment spread past its Retry-After', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const p = pacer(null);
    const t0 = Date.now();
    p.observe(answered(503, { 'retry-after': '1' }, { reason: 'overloaded' }));
    expect(p.mode).toBe('paused');
    const started = queue(p, 1, t0);
    await vi.advanceTimersByTimeAsync(1499);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(started).toHaveLength(1);
    expect(started[0]).toBeGreaterThanOrEqual(1500);
  });

  it('after a 429, spaces the queued jobs at the RateLimit-Policy it announced', async () => {
    const p = pacer(null);
    const t0 = Date.now();
    p.observe(answered(429, { 'retry-after': '1', 'ratelimit-policy': '"default";q=10;w=1' }));
    const started = queue(p, 3, t0);
    await vi.advanceTimersByTimeAsync(1500);
    expect(started).toHaveLength(3);
    expect(started[0]).toBeGreaterThanOrEqual(1000);
    expect(started[2]! - started[0]!).toBeGreaterThanOrEqual(195);
  });

  it('ignores a pause that ends earlier than the current one', async () => {
    const p = pacer(null);
    const t0 = Date.now();
    p.pause(t0 + 1000);
    p.pause(t0 + 100);
    const started = queue(p, 1, t0);
    await vi.advanceTimersByTimeAsync(999);
    expect(started).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(started).toHaveLength(1);
  });

  it('extends the pause when a later one comes', async () => {
    const p = pacer(null);
    const t0 = Date.now();
    p.pause(t0 + 100);
    p.pause(t0 + 1000);
    const started = queue(p, 1, t0);
    await vi.advanceTimersByTimeAsync(999);
    expect(started).toEqual([]);
    expect(p.mode).toBe('paused');
    await vi.advanceTimersByTimeAsync(10);
    expect(started).toHaveLength(1);
  });

  it('keeps an announced policy through a later pause that brings none', async () => {
    const p = pacer(null);
    const t0 = Date.now();
    p.pause(t0 + 100, { quota: 10, windowSeconds: 1 });
    p.pause(t0 + 200);
    const started = queue(p, 3, t0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toHaveLength(3);
    expect(started[2]! - started[0]!).toBeGreaterThanOrEqual(195);
  });

  it('opens again as soon as a pause nobody waited out ends', async () => {
    const p = pacer(null);
    p.pause(Date.now() + 100, { quota: 10, windowSeconds: 1 });
    await vi.advanceTimersByTimeAsync(100);
    expect(p.mode).toBe('open');
    expect(p.engaged).toBe(false);
  });

  it('a paced pacer goes back to its own pacing after a pause, without the recovery spacing', async () => {
    const p = pacer(resolvePacing({ maxConcurrent: 4 }));
    const t0 = Date.now();
    p.pause(t0 + 100, { quota: 10, windowSeconds: 1 });
    queue(p, 2, t0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.mode).toBe('paced');
    expect(p.engaged).toBe(true);
    const t1 = Date.now();
    const later = queue(p, 3, t1);
    await vi.advanceTimersByTimeAsync(50);
    // A few ms of bottleneck's own turns apart, not the 100 ms of the policy.
    expect(later).toHaveLength(3);
    expect(later[2]! - later[0]!).toBeLessThan(50);
  });

  it('a pacer with minTimeMs keeps that spacing after a pause', async () => {
    const p = pacer(resolvePacing({ minTimeMs: 40 }));
    p.pause(Date.now() + 100);
    queue(p, 1, 0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.mode).toBe('paced');
    const t1 = Date.now();
    const later = queue(p, 3, t1);
    await vi.advanceTimersByTimeAsync(500);
    expect(later).toHaveLength(3);
    expect(later[2]! - later[0]!).toBeGreaterThanOrEqual(75);
  });

  it('pauses on a 429 whose wait is only in the body, with no response to read a policy from', () => {
    // A terminal link may raise a server error without meta.response.
    const json = { error: { message: 'slow down', code: -32029, data: { code: 'TOO_MANY_REQUESTS', httpStatus: 429, retryAfterMs: 1000 } } };
    const p = pacer(null);
    p.observe(TRPCClientError.from<AppRouter>(json));
    expect(p.mode).toBe('paused');
  });

  it('stays paused when a job that started before the pause ends during it', async () => {
    // Bottleneck goes idle when that job ends; the pause must not take that for the end of its recovery.
    const p = pacer(resolvePacing({ maxConcurrent: 1 }));
    let finish!: () => void;
    p.schedule(() => new Promise<void>((resolve) => (finish = resolve)));
    await vi.advanceTimersByTimeAsync(20);
    expect(finish).toBeDefined();
    p.pause(Date.now() + 1000);
    finish();
    await vi.advanceTimersByTimeAsync(10);
    expect(p.mode).toBe('paused');
  });

  it('dispose stops the pause timer: queued jobs stay queued', async () => {
    const p = pacer(null);
    const started = queue(p, 0, 0);
    p.pause(Date.now() + 100);
    p.schedule(async () => void started.push(1));
    p.dispose();
    await vi.advanceTimersByTimeAsync(1000);
    expect(started).toEqual([]);
    expect(p.mode).toBe('paused');
  });

  it('dispose of a pacer that never queued anything is a no-op', () => {
    expect(() => new Pacer(null).dispose()).not.toThrow();
  });
});

describe('Pacer and the process', () => {
  afterEach(() => {
    for (const p of pacers.splice(0)) p.dispose();
    vi.restoreAllMocks();
  });

  it('an idle pause does not keep the process alive; a call waiting it out does', () => {
    // The pause's timer, seen through a spy that lets setTimeout run as it is.
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const p = pacer(null);
    p.pause(Date.now() + 60_000);
    const i = setTimeoutSpy.mock.calls.findIndex(([, ms]) => (ms ?? 0) > 59_000);
    const timer = setTimeoutSpy.mock.results[i]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    p.schedule(async () => {});
    expect(timer.hasRef()).toBe(true);
  });

  it('a pause that extends one calls are already waiting out keeps the process alive', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const p = pacer(null);
    p.pause(Date.now() + 60_000);
    p.schedule(async () => {});
    // Let bottleneck queue the job before the second pause looks at its queue.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
    p.pause(Date.now() + 120_000);
    const i = setTimeoutSpy.mock.calls.findIndex(([, ms]) => (ms ?? 0) > 100_000);
    expect((setTimeoutSpy.mock.results[i]?.value as NodeJS.Timeout).hasRef()).toBe(true);
  });
});

describe('resolvePacing', () => {
  it('refuses a fractional maxConcurrent and an infinite minTimeMs', () => {
    expect(() => resolvePacing({ maxConcurrent: 1.5 })).toThrow(/pacing\.maxConcurrent/);
    expect(() => resolvePacing({ minTimeMs: Infinity })).toThrow(/pacing\.minTimeMs/);
  });
});
