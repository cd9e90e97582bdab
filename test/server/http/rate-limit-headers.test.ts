import { describe, expect, it } from 'vitest';
import {
  rateLimitHeader,
  rateLimitPolicyHeader,
  retryAfterSeconds,
} from '../../../server/http/rate-limit-headers.js';
import { createMemoryRateLimitStore } from '../../../server/stores/memory-rate-limit.js';
import type { BucketPlan, RateLimitDecision } from '../../../server/stores/rate-limit-store.js';

const plan: BucketPlan = { burst: 100, perSecond: 20, name: 'default' };

function decision(overrides: Partial<RateLimitDecision>): RateLimitDecision {
  return { allowed: true, remaining: 99, retryAfterMs: 0, resetMs: 50, limit: 100, ...overrides };
}

describe('RateLimit-Policy', () => {
  it('gives the burst as q and the seconds to refill an empty bucket as w', () => {
    expect(rateLimitPolicyHeader(plan)).toBe('"default";q=100;w=5');
  });

  it('rounds the window up and never below one second', () => {
    expect(rateLimitPolicyHeader({ burst: 10, perSecond: 3, name: 'x' })).toBe('"x";q=10;w=4');
    expect(rateLimitPolicyHeader({ burst: 10, perSecond: 1000, name: 'x' })).toBe('"x";q=10;w=1');
  });

  it('escapes the policy name as a structured-field string', () => {
    expect(rateLimitPolicyHeader({ ...plan, name: 'a"b\\c' })).toBe('"a\\"b\\\\c";q=100;w=5');
  });

  it('refuses a policy name that is not printable ASCII', () => {
    expect(() => rateLimitPolicyHeader({ ...plan, name: 'caf\u00e9' })).toThrow(RangeError);
    expect(() => rateLimitPolicyHeader({ ...plan, name: 'a\nb' })).toThrow(RangeError);
    // The configuration error names what is wrong, and the same name refused twice is refused the same way.
    for (let i = 0; i < 2; i++) {
      expect(() => rateLimitPolicyHeader({ ...plan, name: 'caf\u00e9' })).toThrow(
        'policy name must be printable ASCII for an sf-string, got "café"',
      );
    }
  });

  it('spells each of many policy names right, past the ones it keeps made', () => {
    for (let i = 0; i < 1_100; i++) {
      expect(rateLimitPolicyHeader({ ...plan, name: `plan-${i}` })).toBe(`"plan-${i}";q=100;w=5`);
    }
    expect(rateLimitPolicyHeader({ ...plan, name: 'plan-1099' })).toBe('"plan-1099";q=100;w=5');
  });
});

describe('RateLimit', () => {
  it('reads "default";r=42;t=1 after 58 requests on the default plan', () => {
    const store = createMemoryRateLimitStore({ now: () => 0 });
    let last = store.take('k', plan);
    for (let i = 1; i < 58; i++) last = store.take('k', plan);
    expect(rateLimitHeader(plan, last)).toBe('"default";r=42;t=1');
  });

  it('gives as t the whole seconds until the next token, not until the bucket is full', () => {
    const slow: BucketPlan = { burst: 10, perSecond: 0.1, name: 'slow' };
    const clock = { t: 0 };
    const store = createMemoryRateLimitStore({ now: () => clock.t });
    store.take('k', slow);
    store.take('k', slow);
    clock.t = 4_000; // 0.4 of a token back; after this take: 7.4, next token in 6 s, full in 26 s
    const d = store.take('k', slow);
    expect(d).toMatchObject({ remaining: 7, resetMs: 26_000 });
    expect(rateLimitHeader(slow, d)).toBe('"slow";r=7;t=6');
  });

  it('gives the Retry-After moment as t on a rejection', () => {
    const d = decision({ allowed: false, remaining: 0, retryAfterMs: 1_200, resetMs: 5_000 });
    expect(rateLimitHeader(plan, d)).toBe('"default";r=0;t=2');
  });

  it('gives t=0 when the bucket is full', () => {
    expect(rateLimitHeader(plan, decision({ remaining: 100, resetMs: 0 }))).toBe('"default";r=100;t=0');
  });
});

describe('Retry-After', () => {
  it('rounds up to whole seconds and is at least 1', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1_000)).toBe(1);
    expect(retryAfterSeconds(1_001)).toBe(2);
  });
});
