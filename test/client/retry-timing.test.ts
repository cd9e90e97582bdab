import { describe, expect, it } from 'vitest';
import { fullJitterDelay, parseRetryAfter } from '../../client/internals/retry-timing.js';
import { parseRateLimitPolicy } from '../../client/internals/rate-limit-policy.js';

const NOW = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', NOW)).toBe(0);
    expect(parseRetryAfter('1', NOW)).toBe(1_000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
  });

  it('reads an IMF-fixdate HTTP-date as the time until then', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:03 GMT', NOW)).toBe(3_000);
  });

  it('reads the obsolete RFC 850 and asctime date forms', () => {
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:28:05 GMT', NOW)).toBe(5_000);
    expect(parseRetryAfter('Wed Oct 21 07:28:07 2015', NOW)).toBe(7_000);
  });

  it('treats a date in the past as no wait', () => {
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:27:00 GMT', NOW)).toBe(0);
  });

  it('ignores what is neither', () => {
    for (const bad of [null, undefined, '', 'soon', '-1', '1.5', '1e3']) expect(parseRetryAfter(bad, NOW)).toBeUndefined();
  });
});

describe('fullJitterDelay', () => {
  it('draws below base · 2^(attempt − 1)', () => {
    expect(fullJitterDelay(1, 200, 30_000, () => 0.999)).toBe(199);
    expect(fullJitterDelay(3, 200, 30_000, () => 0.5)).toBe(400);
    expect(fullJitterDelay(3, 200, 30_000, () => 0)).toBe(0);
  });

  it('never exceeds the cap, however many attempts', () => {
    expect(fullJitterDelay(10, 200, 30_000, () => 0.999)).toBe(29_970);
    expect(fullJitterDelay(5_000, 200, 30_000, () => 0.999)).toBeLessThan(30_000);
  });
});

describe('parseRateLimitPolicy', () => {
  it('reads quota and window', () => {
    expect(parseRateLimitPolicy('"default";q=100;w=5')).toEqual({ quota: 100, windowSeconds: 5 });
  });

  it('takes the slowest of several policies, commas inside names included', () => {
    expect(parseRateLimitPolicy('"burst, fast";q=100;w=1, "daily";q=1000;w=86400')).toEqual({ quota: 1000, windowSeconds: 86_400 });
  });

  it('skips items without a window, and answers undefined for nothing usable', () => {
    expect(parseRateLimitPolicy('"a";q=10')).toBeUndefined();
    expect(parseRateLimitPolicy('garbage')).toBeUndefined();
    expect(parseRateLimitPolicy(null)).toBeUndefined();
  });
});
