import { describe, expect, it } from 'vitest';
import { createRetryAfterSpread } from '../../../server/admission/retry-after-spread.js';

/** A spread that has seen `rate` requests start in each of two seconds, from t = 0. */
function warmed(rate: number, opts = { baseS: 1, maxS: 10 }) {
  const spread = createRetryAfterSpread(opts);
  for (let second = 0; second < 2; second++) {
    for (let i = 0; i < rate; i++) spread.started(second * 1000 + (i * 1000) / rate);
  }
  return spread;
}

describe('createRetryAfterSpread', () => {
  it('asks for the base wait when nothing has started yet', () => {
    const spread = createRetryAfterSpread({ baseS: 2, maxS: 20 });
    expect([spread.next(0), spread.next(0), spread.next(0)]).toEqual([2, 2, 2]);
  });

  it('spreads a burst refused in one moment over the seconds the server needs to start it', () => {
    const spread = warmed(100);
    const waits = Array.from({ length: 500 }, () => spread.next(2000));
    const count = (s: number) => waits.filter((w) => w === s).length;
    // 100 starts a second: each second gets 100 of the 500 back.
    expect([1, 2, 3, 4, 5].map(count)).toEqual([100, 100, 100, 100, 100]);
    expect(Math.max(...waits)).toBe(5);
  });

  it('asks the base wait again once the booked time has passed', () => {
    const spread = warmed(100);
    for (let i = 0; i < 300; i++) spread.next(2000);
    expect(spread.next(2000)).toBe(4);
    expect(spread.next(5500)).toBe(1);
  });

  it('books what it starts while it sheds, so the waits asked grow while the overload lasts', () => {
    const spread = warmed(100);
    for (let i = 0; i < 100; i++) spread.next(2000);
    // The clients it serves in the next second send again at once: each start takes a slot the refused were booked for.
    for (let i = 0; i < 100; i++) spread.started(2000 + i * 10);
    expect(spread.next(2990)).toBe(2);
  });

  it('stops booking what it starts a second after its last refusal', () => {
    const spread = warmed(100);
    for (let i = 0; i < 1000; i++) spread.next(2000);
    // Booked to 12 000 (the 10 s cap). 1.5 s later, starts no longer push that back.
    for (let i = 0; i < 100; i++) spread.started(3500 + i);
    expect(spread.next(3600)).toBe(9);
  });

  it('never asks for more than maxS nor books past it', () => {
    const spread = warmed(10, { baseS: 1, maxS: 3 });
    const waits = Array.from({ length: 1000 }, () => spread.next(2000));
    expect(Math.max(...waits)).toBe(3);
    expect(Math.min(...waits)).toBe(1);
    // A second later the bookings beyond 3 s are gone: 2 s are left of them, not 99.
    expect(spread.next(3000)).toBe(3);
    expect(spread.next(5500)).toBe(1);
  });

  it('takes the current second as a floor for the rate on a fresh server', () => {
    const spread = createRetryAfterSpread({ baseS: 1, maxS: 10 });
    for (let i = 0; i < 50; i++) spread.started(i);
    const waits = Array.from({ length: 200 }, () => spread.next(100));
    expect(Math.max(...waits)).toBe(4);
  });

  it('asks exactly the base wait for one second booked, whatever the clock reads', () => {
    // (4062.979… + 1000) − 4062.979… is a hair above 1000 in floating point.
    for (const at of [0.1, 4062.9792113800354, 32049.394014214628]) {
      const spread = createRetryAfterSpread({ baseS: 1, maxS: 10 });
      spread.started(at);
      expect(spread.next(at)).toBe(1);
    }
  });

  it('rejects a base below one second or a max below the base', () => {
    expect(() => createRetryAfterSpread({ baseS: 0, maxS: 1 })).toThrow(RangeError);
    expect(() => createRetryAfterSpread({ baseS: 2, maxS: 1 })).toThrow(RangeError);
  });
});
