import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { createMemoryRateLimitStore } from '../../../server/stores/memory-rate-limit.js';
import type { BucketPlan, RateLimitDecision } from '../../../server/stores/rate-limit-store.js';

// 20 tokens a second: one token every 50 ms, so whole-ms answers are exact.
const plan: BucketPlan = { burst: 5, perSecond: 20, name: 'default' };

function manualClock(start = 0) {
  let t = start;
  return {
    now: () => t,
    set: (ms: number) => {
      t = ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

describe('memory rate-limit store: refill arithmetic', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('starts full and counts down whole tokens with the time to refill', () => {
    const clock = manualClock();
    const store = createMemoryRateLimitStore({ now: clock.now });
    const decisions = Array.from({ length: 5 }, () => store.take('k', plan));
    expect(decisions.map((d) => d.remaining)).toEqual([4, 3, 2, 1, 0]);
    expect(decisions.map((d) => d.resetMs)).toEqual([50, 100, 150, 200, 250]);
    expect(decisions.every((d) => d.allowed && d.retryAfterMs === 0 && d.limit === 5)).toBe(true);
  });

  it('rejects an empty bucket at once with the exact wait for the next token', () => {
    const clock = manualClock();
    const store = createMemoryRateLimitStore({ now: clock.now });
    for (let i = 0; i < 5; i++) store.take('k', plan);
    expect(store.take('k', plan)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 50, resetMs: 250, limit: 5 });
    clock.set(49);
    expect(store.take('k', plan)).toMatchObject({ allowed: false, retryAfterMs: 1 });
    clock.set(50);
    expect(store.take('k', plan)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('refills lazily at the plan rate and never above burst, under fake timers', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const store = createMemoryRateLimitStore();
    for (let i = 0; i < 5; i++) store.take('k', plan);
    vi.advanceTimersByTime(120); // 2.4 tokens back
    expect(store.take('k', plan)).toMatchObject({ allowed: true, remaining: 1 });
    vi.advanceTimersByTime(60_000);
    expect(store.take('k', plan)).toMatchObject({ allowed: true, remaining: 4, resetMs: 50 });
  });

  it('takes the cost of an expensive request and waits for all of it when short', () => {
    const clock = manualClock();
    const store = createMemoryRateLimitStore({ now: clock.now });
    expect(store.take('k', plan, 3)).toMatchObject({ allowed: true, remaining: 2 });
    // 2 tokens left, 3 needed: one more token, 50 ms.
    expect(store.take('k', plan, 3)).toMatchObject({ allowed: false, remaining: 2, retryAfterMs: 50 });
    expect(store.take('k', plan, 2)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it('never admits a cost above burst, takes nothing, and gives the full-refill window as the wait', () => {
    const clock = manualClock();
    const store = createMemoryRateLimitStore({ now: clock.now });
    expect(store.take('k', plan, 6)).toEqual({ allowed: false, remaining: 5, retryAfterMs: 250, resetMs: 0, limit: 5 });
    expect(store.size).toBe(0);
    expect(store.take('k', plan)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('adds no tokens when the clock steps back', () => {
    const clock = manualClock(10_000);
    const store = createMemoryRateLimitStore({ now: clock.now });
    for (let i = 0; i < 5; i++) store.take('k', plan);
    clock.set(5_000);
    expect(store.take('k', plan)).toMatchObject({ allowed: false, retryAfterMs: 50 });
    clock.set(5_050);
    expect(store.take('k', plan)).toMatchObject({ allowed: true });
  });

  it('keeps buckets of different keys apart', () => {
    const store = createMemoryRateLimitStore({ now: () => 0 });
    for (let i = 0; i < 5; i++) store.take('alice', plan);
    expect(store.take('alice', plan).allowed).toBe(false);
    expect(store.take('bob', plan)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('rejects an invalid plan or cost as a programming error', () => {
    const store = createMemoryRateLimitStore();
    expect(() => store.take('k', { ...plan, burst: 0 })).toThrow(RangeError);
    expect(() => store.take('k', { ...plan, perSecond: Number.NaN })).toThrow(RangeError);
    expect(() => store.take('k', plan, 0)).toThrow(RangeError);
    expect(() => createMemoryRateLimitStore({ maxKeys: 0 })).toThrow(/maxKeys/);
  });
});

describe('memory rate-limit store: exactness', () => {
  it('admits exactly N of N + k concurrent takes on a bucket of N', async () => {
    const store = createMemoryRateLimitStore({ now: () => 0 });
    const bucket: BucketPlan = { burst: 100, perSecond: 1, name: 'default' };
    const decisions = await Promise.all(
      Array.from({ length: 137 }, () => Promise.resolve().then(() => store.take('k', bucket))),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(100);
  });

  const planArb = fc.record({
    burst: fc.integer({ min: 1, max: 20 }),
    perSecond: fc.double({ min: 0.1, max: 200, noNaN: true, noDefaultInfinity: true }),
    name: fc.constant('p'),
  });
  const stepsArb = fc.array(
    fc.record({ gapMs: fc.integer({ min: 0, max: 400 }), cost: fc.integer({ min: 1, max: 3 }) }),
    { minLength: 1, maxLength: 150 },
  );

  it('admits at most burst + rate × t in any window of t seconds', () => {
    fc.assert(
      fc.property(planArb, stepsArb, (bucket, steps) => {
        const clock = manualClock();
        const store = createMemoryRateLimitStore({ now: clock.now });
        const admitted: { at: number; cost: number }[] = [];
        for (const step of steps) {
          clock.advance(step.gapMs);
          if (store.take('k', bucket, step.cost).allowed) admitted.push({ at: clock.now(), cost: step.cost });
        }
        // The busiest windows start and end on admitted requests.
        for (let i = 0; i < admitted.length; i++) {
          let taken = 0;
          for (let j = i; j < admitted.length; j++) {
            const first = admitted[i];
            const last = admitted[j];
            if (first === undefined || last === undefined) throw new Error('unreachable');
            taken += last.cost;
            const bound = bucket.burst + (bucket.perSecond * (last.at - first.at)) / 1000;
            if (taken > bound + 1e-6) return false;
          }
        }
        return true;
      }),
      { numRuns: 300 },
    );
  });

  it('gives a retryAfterMs after which a take succeeds and one ms before which it fails', () => {
    fc.assert(
      fc.property(planArb, stepsArb, fc.integer({ min: 1, max: 3 }), (bucket, steps, cost) => {
        const replay = (probeAfterMs?: number): RateLimitDecision => {
          const clock = manualClock();
          const store = createMemoryRateLimitStore({ now: clock.now });
          for (const step of steps) {
            clock.advance(step.gapMs);
            store.take('k', bucket, step.cost);
          }
          const last = store.take('k', bucket, cost);
          if (probeAfterMs === undefined) return last;
          clock.advance(probeAfterMs);
          return store.take('k', bucket, cost);
        };
        const decision = replay();
        if (decision.allowed || cost > bucket.burst) return true;
        return replay(decision.retryAfterMs).allowed && !replay(decision.retryAfterMs - 1).allowed;
      }),
      { numRuns: 300 },
    );
  });
});

describe('memory rate-limit store: bounded memory', () => {
  it('holds at most maxKeys buckets however many keys arrive', () => {
    const store = createMemoryRateLimitStore({ maxKeys: 1_000, now: () => 0 });
    for (let i = 0; i < 50_000; i++) store.take(`key:${i}`, plan);
    expect(store.size).toBe(1_000);
  });

  it('answers for a dropped idle bucket exactly as if it had been kept', () => {
    const clock = manualClock();
    const bounded = createMemoryRateLimitStore({ maxKeys: 1, now: clock.now });
    const unbounded = createMemoryRateLimitStore({ now: clock.now });
    for (let i = 0; i < 5; i++) {
      bounded.take('a', plan);
      unbounded.take('a', plan);
    }
    clock.advance(250); // full again
    bounded.take('b', plan); // evicts a
    expect(bounded.size).toBe(1);
    expect(bounded.take('a', plan)).toEqual(unbounded.take('a', plan));
  });

  it('drops a bucket it finds full instead of storing it', () => {
    const clock = manualClock();
    const store = createMemoryRateLimitStore({ now: clock.now });
    store.take('a', plan);
    expect(store.size).toBe(1);
    clock.advance(50);
    store.take('a', plan, 6); // rejected, observes a full bucket
    expect(store.size).toBe(0);
  });

  it('evicts the bucket nearest to full when every bucket is still refilling', () => {
    const clock = manualClock();
    const store = createMemoryRateLimitStore({ maxKeys: 2, now: clock.now });
    for (let i = 0; i < 5; i++) store.take('a', plan); // empty: full in 250 ms
    store.take('b', plan); // full in 50 ms
    store.take('c', plan); // evicts b; c reuses its slot
    expect(store.size).toBe(2);
    expect(store.take('c', plan)).toMatchObject({ allowed: true, remaining: 3 });
    expect(store.take('a', plan)).toMatchObject({ allowed: false });
    expect(store.take('b', plan)).toMatchObject({ allowed: true, remaining: 4 });
  });

  it('sweeps idle full buckets away as new keys arrive', () => {
    const clock = manualClock();
    const store = createMemoryRateLimitStore({ now: clock.now });
    for (let i = 0; i < 1_000; i++) store.take(`old:${i}`, plan);
    clock.advance(1_000); // every old bucket is full again
    for (let i = 0; i < 600; i++) store.take(`new:${i}`, plan);
    expect(store.size).toBeLessThanOrEqual(600 + 1);
  });
});
