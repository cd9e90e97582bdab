import { describe, expect, it } from 'vitest';
import { gradient2Limit } from '../../../server/admission/gradient2-limit.js';
import { fixedLimit } from '../../../server/admission/fixed-limit.js';
import type { Limit } from '../../../server/admission/limit.js';

/** Feeds about `windows` windows (10 samples 25 ms apart each) of one RTT and in-flight count, on a fake clock. */
function feed(limit: Limit, clock: { t: number }, windows: number, rttMs: number, inflight?: number) {
  for (let w = 0; w < windows; w++) {
    for (let i = 0; i < 10; i++) {
      clock.t += 25;
      // Every slot in use unless told otherwise.
      limit.onSample({ now: clock.t, rttMs, inflight: inflight ?? limit.current, dropped: false });
    }
  }
}

describe('gradient2Limit', () => {
  it('keeps its initial limit until a window of samples is complete', () => {
    const limit = gradient2Limit({ initialLimit: 20 });
    for (let i = 0; i < 9; i++) limit.onSample({ now: i * 100, rttMs: 50, inflight: 20, dropped: false });
    expect(limit.current).toBe(20);
  });

  it('grows while latency holds steady and the slots are used', () => {
    const clock = { t: 0 };
    const limit = gradient2Limit({ initialLimit: 20, maxLimit: 200 });
    feed(limit, clock, 40, 5);
    expect(limit.current).toBeGreaterThan(40);
  });

  it('does not grow while fewer than half the slots are used', () => {
    const clock = { t: 0 };
    const limit = gradient2Limit({ initialLimit: 20, maxLimit: 200 });
    feed(limit, clock, 40, 5, 3);
    expect(limit.current).toBe(20);
  });

  it('shrinks when requests start taking longer than they used to, down to the minimum', () => {
    const clock = { t: 0 };
    const limit = gradient2Limit({ initialLimit: 40, minLimit: 8, maxLimit: 64 });
    feed(limit, clock, 20, 5);
    const before = limit.current;
    feed(limit, clock, 5, 20);
    expect(limit.current).toBeLessThan(before);
    feed(limit, clock, 200, 80);
    expect(limit.current).toBe(8);
  });

  it('never exceeds its maximum', () => {
    const clock = { t: 0 };
    const limit = gradient2Limit({ initialLimit: 20, maxLimit: 32 });
    feed(limit, clock, 500, 5);
    expect(limit.current).toBe(32);
  });

  it('recovers once latency is back to normal after a long overload', () => {
    const clock = { t: 0 };
    const limit = gradient2Limit({ initialLimit: 20, minLimit: 8, maxLimit: 64 });
    feed(limit, clock, 50, 5);
    feed(limit, clock, 100, 40);
    const low = limit.current;
    expect(low).toBe(8);
    feed(limit, clock, 40, 5);
    expect(limit.current).toBeGreaterThan(low + 10);
  });

  it('refuses bounds that contradict each other, naming them', () => {
    expect(() => gradient2Limit({ minLimit: 10, maxLimit: 5 })).toThrow(/maxLimit/);
    expect(() => gradient2Limit({ smoothing: 0 })).toThrow(/smoothing/);
  });
});

describe('fixedLimit', () => {
  it('stays where it was set whatever it is told', () => {
    const limit = fixedLimit(7);
    limit.onSample({ now: 1, rttMs: 10_000, inflight: 7, dropped: true });
    expect(limit.current).toBe(7);
    expect(() => fixedLimit(0)).toThrow(RangeError);
  });
});
