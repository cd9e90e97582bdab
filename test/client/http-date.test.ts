import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseHttpDate } from '../../client/internals/http-date.js';

const NOW = Date.UTC(2015, 9, 21, 7, 28, 0);
const run = promisify(execFile);

describe('parseHttpDate', () => {
  it('reads the three forms of RFC 9110 §5.6.7 as the same GMT instant', () => {
    const at = Date.UTC(1994, 10, 6, 8, 49, 37);
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT', NOW)).toBe(at);
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(at);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW)).toBe(at);
  });

  it('reads every month, January and December included', () => {
    expect(parseHttpDate('Thu, 01 Jan 2015 00:00:00 GMT', NOW)).toBe(Date.UTC(2015, 0, 1));
    expect(parseHttpDate('Thu Jan  1 00:00:00 2015', NOW)).toBe(Date.UTC(2015, 0, 1));
    expect(parseHttpDate('Thu, 31 Dec 2015 23:59:59 GMT', NOW)).toBe(Date.UTC(2015, 11, 31, 23, 59, 59));
  });

  it('reads a two-digit RFC 850 year as the latest such year at most 50 years ahead', () => {
    expect(parseHttpDate('Thursday, 21-Oct-65 07:28:00 GMT', NOW)).toBe(Date.UTC(2065, 9, 21, 7, 28, 0));
    expect(parseHttpDate('Monday, 21-Oct-66 07:28:00 GMT', NOW)).toBe(Date.UTC(1966, 9, 21, 7, 28, 0));
    expect(parseHttpDate('Wednesday, 21-Oct-15 07:28:00 GMT', NOW)).toBe(NOW);
  });

  it('accepts a leap second and two-digit days in asctime', () => {
    expect(parseHttpDate('Wed, 31 Dec 2014 23:59:60 GMT', NOW)).toBe(Date.UTC(2015, 0, 1, 0, 0, 0));
    expect(parseHttpDate('Wed Oct 21 07:28:00 2015', NOW)).toBe(NOW);
  });

  it('refuses what is no HTTP-date: other layouts, zones, days that do not exist, out-of-range times', () => {
    for (const bad of [
      '2015-10-21T07:28:00Z',
      'Wed, 21 Oct 2015 07:28:00 +0000',
      'Wed, 21 Oct 2015 07:28:00',
      'wed, 21 oct 2015 07:28:00 GMT',
      'Wed, 21 Okt 2015 07:28:00 GMT',
      'Sat, 31 Feb 2015 07:28:00 GMT',
      'Wed, 21 Oct 2015 24:00:00 GMT',
      'Wed, 21 Oct 2015 07:60:00 GMT',
      'Wed, 21 Oct 2015 07:28:61 GMT',
      'Wed Oct 21 07:28:00 2015 GMT',
      ' Wed, 21 Oct 2015 07:28:00 GMT',
      '1445412480',
    ]) {
      expect(parseHttpDate(bad, NOW), bad).toBeUndefined();
    }
  });
});

// Each zone is a child process started with TZ set: Node reads TZ at start,
// and a worker thread cannot change the zone of the process it runs in.
const script = `
const { parseRetryAfter } = await import(${JSON.stringify(new URL('../../client/internals/retry-timing.ts', import.meta.url).href)});
const now = ${NOW};
const headers = ['Wed, 21 Oct 2015 07:28:03 GMT', 'Wednesday, 21-Oct-15 07:28:05 GMT', 'Wed Oct 21 07:28:07 2015'];
console.log(JSON.stringify({ offset: new Date(now).getTimezoneOffset(), delays: headers.map((h) => parseRetryAfter(h, now)) }));
`;

describe('Retry-After HTTP-dates under several time zones', () => {
  it.each([
    ['UTC', 0],
    ['America/New_York', 240],
    ['Asia/Tokyo', -540],
  ])('gives the same delays for all three date forms under TZ=%s', async (zone, offset) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, TZ: zone },
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    const seen = JSON.parse(stdout) as { offset: number; delays: number[] };
    // The offset proves the child really ran in that zone (New York is on EDT on 21 Oct 2015).
    expect(seen).toEqual({ offset, delays: [3_000, 5_000, 7_000] });
  });
});
