import { describe, expect, it } from 'vitest';
import { createMemoryRateLimitStore, type MemoryRateLimitStore } from '../../../server/stores/memory-rate-limit.js';
import type { BucketPlan } from '../../../server/stores/rate-limit-store.js';

const plan: BucketPlan = { burst: 5, perSecond: 20, name: 'default' };

function clocked(maxKeys?: number) {
  let t = 0;
  const store = createMemoryRateLimitStore({ now: () => t, ...(maxKeys === undefined ? {} : { maxKeys }) });
  return { store, set: (ms: number) => void (t = ms) };
}

/** Tokens a bucket holds now, without taking any: a cost above burst takes nothing and reports them. */
const held = (store: MemoryRateLimitStore, key: string, bucket = plan) => store.take(key, bucket, bucket.burst + 1).remaining;

// Found by search: a fractional take leaves a level where `(goal - level) / perMs`
// rounds below or above the whole milliseconds `take` will find enough tokens after.
const ROUNDING_CASES = [
  { why: 'the division rounds down', burst: 1, perSecond: 134.79999999999998, first: 0.9436009999999999, then: 1 },
  { why: 'the division rounds down', burst: 1, perSecond: 158, first: 0.9480010000000001, then: 1 },
  { why: 'the division rounds up', burst: 9, perSecond: 19, first: 2.0570010000000005, then: 7 },
  { why: 'the division rounds up', burst: 1, perSecond: 2, first: 0.17000100000000007, then: 1 },
  { why: 'the level lands exactly on the goal', burst: 7, perSecond: 147.1, first: 4.4130009999999995, then: 7 },
  { why: 'the level lands exactly on the goal', burst: 6, perSecond: 77, first: 5.929001, then: 6 },
];

describe('memory rate-limit store: exact waits where floating point rounds', () => {
  for (const c of ROUNDING_CASES) {
    it(`admits a retry at exactly retryAfterMs and not 1 ms before when ${c.why} (${c.perSecond}/s)`, () => {
      const bucket: BucketPlan = { burst: c.burst, perSecond: c.perSecond, name: 'p' };
      const retryAt = (probeMs?: number) => {
        const { store, set } = clocked();
        store.take('k', bucket, c.first);
        const rejected = store.take('k', bucket, c.then);
        if (probeMs === undefined) return rejected;
        set(probeMs);
        return store.take('k', bucket, c.then);
      };
      const rejected = retryAt();
      expect(rejected.allowed).toBe(false);
      expect(retryAt(rejected.retryAfterMs).allowed).toBe(true);
      expect(retryAt(rejected.retryAfterMs - 1).allowed).toBe(false);
      // Refilling to burst is the same sum: resetMs is exact too.
      const { store, set } = clocked();
      store.take('k', bucket, c.first);
      const { resetMs } = store.take('k', bucket, c.then);
      set(resetMs - 1);
      expect(held(store, 'k', bucket)).toBeLessThan(c.burst);
      set(resetMs);
      expect(store.size).toBe(1);
      expect(held(store, 'k', bucket)).toBe(c.burst);
      expect(store.size).toBe(0);
    });
  }
});

describe('memory rate-limit store: costs at the tolerance', () => {
  it('admits a cost within TOKEN_EPSILON above the tokens left and leaves the bucket exactly empty', () => {
    const { store } = clocked();
    store.take('k', plan, 3);
    expect(store.take('k', plan, 2.000001)).toMatchObject({ allowed: true, remaining: 0 });
    expect(store.take('k', plan)).toMatchObject({ allowed: false, retryAfterMs: 50, resetMs: 250 });
  });

  it('answers after a take a hair past empty exactly as after one that empties the bucket', () => {
    // One token per 1000 s: half a microtoken below zero would be half a millisecond of wait.
    const slow: BucketPlan = { burst: 2, perSecond: 0.001, name: 'slow' };
    const a = clocked();
    a.store.take('k', slow, 1);
    const past = a.store.take('k', slow, 1.0000005);
    const b = clocked();
    const exact = b.store.take('k', slow, 2);
    expect(past).toEqual(exact);
    expect(a.store.take('k', slow)).toEqual(b.store.take('k', slow));
  });

  it('never admits a cost even a hair above burst, though the tolerance would cover it', () => {
    const { store } = clocked();
    expect(store.take('k', plan, 5 + 1e-7)).toMatchObject({ allowed: false, remaining: 5, retryAfterMs: 250 });
  });
});

describe('memory rate-limit store: slots', () => {
  it('keeps every live bucket exactly once it holds more than its first arrays (1024 slots)', () => {
    const { store } = clocked();
    for (let i = 0; i < 3000; i++) for (let j = 0; j < 5; j++) store.take(`k${i}`, plan);
    expect(store.size).toBe(3000);
    for (const i of [0, 1023, 1024, 2047, 2048, 2999]) {
      expect(store.take(`k${i}`, plan), `k${i}`).toMatchObject({ allowed: false, retryAfterMs: 50 });
    }
  });

  it('reuses a slot freed by a full bucket after rejecting an unknown key, and keeps counting in it', () => {
    const { store, set } = clocked(2);
    store.take('a', plan);
    for (let i = 0; i < 5; i++) store.take('b', plan);
    set(50);
    store.take('a', plan, 6); // finds a full: frees its slot
    store.take('x', plan, 6); // an unknown key, full: holds no slot
    const decisions = Array.from({ length: 6 }, () => store.take('c', plan).allowed);
    expect(decisions).toEqual([true, true, true, true, true, false]);
    expect(held(store, 'b')).toBe(1); // b still counted: one token back in 50 ms
  });

  it('evicts the live bucket nearest to full, not the first it looks at', () => {
    const { store } = clocked(3);
    for (let i = 0; i < 5; i++) store.take('a', plan); // full in 250 ms
    for (let i = 0; i < 3; i++) store.take('b', plan); // full in 150 ms
    store.take('c', plan); // full in 50 ms
    store.take('d', plan); // no room: c goes
    expect(store.size).toBe(3);
    expect(['a', 'b', 'c', 'd'].map((k) => held(store, k))).toEqual([0, 2, 5, 4]);
  });

  it('sweeps about two buckets per new key, dropping those that are full at that very millisecond', () => {
    const { store, set } = clocked();
    for (let i = 0; i < 1_000; i++) store.take(`old:${i}`, plan); // each full again at 50 ms
    set(50);
    for (let i = 0; i < 100; i++) store.take(`new:${i}`, plan);
    // At most two dropped per insert (bounded work), and old full buckets do go.
    expect(store.size).toBeGreaterThanOrEqual(1_100 - 200);
    expect(store.size).toBeLessThan(1_000);
  });

  it('holds nothing after close, and a closed store starts over with full buckets', async () => {
    const { store } = clocked();
    for (let i = 0; i < 5; i++) store.take('k', plan);
    await store.close();
    expect(store.size).toBe(0);
    expect(store.take('k', plan)).toMatchObject({ allowed: true, remaining: 4 });
    expect(store.take('j', plan)).toMatchObject({ allowed: true, remaining: 4 });
    expect(store.size).toBe(2);
  });
});
