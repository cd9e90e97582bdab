// HTTP-date (RFC 9110 §5.6.7) read by hand: Date.parse reads the asctime
// form, which carries no zone, as local time, while every HTTP-date is GMT.
// The grammar is three fixed layouts, so a few regular expressions read it
// exactly, in a browser too, without a date library.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
const IMF_FIXDATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// obsolete RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
const RFC_850 = /^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-([A-Z][a-z]{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
// obsolete asctime: "Sun Nov  6 08:49:37 1994" (day padded with a space)
const ASCTIME = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Reads an HTTP-date (RFC 9110 §5.6.7) in any of its three forms, IMF-fixdate,
 * RFC 850 and asctime, as GMT whatever the local time zone, and answers its
 * time in milliseconds since the epoch, or undefined when the text is no
 * HTTP-date (or names a day that does not exist). An RFC 850 two-digit year
 * is the latest year with those digits not more than 50 years after `now`.
 *
 * @example
 * ```ts
 * parseHttpDate('Wed Oct 21 07:28:00 2015', Date.now()); // 1445412480000, in every time zone
 * parseHttpDate('Wednesday, 21-Oct-15 07:28:00 GMT', Date.now()); // 1445412480000
 * parseHttpDate('21/10/2015', Date.now()); // undefined
 * ```
 */
export function parseHttpDate(text: string, now: number): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return toTime(Number(m[3]), m[2], Number(m[1]), m[4], m[5], m[6]);
  m = ASCTIME.exec(text);
  if (m) return toTime(Number(m[6]), m[1], Number(m[2]), m[3], m[4], m[5]);
  m = RFC_850.exec(text);
  if (m) return toTime(fullYear(Number(m[3]), now), m[2], Number(m[1]), m[4], m[5], m[6]);
  return undefined;
}

// RFC 9110 §5.6.7: a two-digit year that appears to be more than 50 years in
// the future is the most recent past year with the same last two digits.
function fullYear(twoDigits: number, now: number): number {
  const thisYear = new Date(now).getUTCFullYear();
  let year = Math.floor(thisYear / 100) * 100 + twoDigits;
  if (year > thisYear + 50) year -= 100;
  return year;
}

function toTime(year: number, monthName: string | undefined, day: number, hh?: string, mm?: string, ss?: string): number | undefined {
  const month = MONTHS.indexOf(monthName ?? '');
  const [hour, minute, second] = [Number(hh), Number(mm), Number(ss)];
  // second 60 is a leap second, which the grammar allows (RFC 9110 §5.6.7); Date.UTC rolls it into the next minute.
  if (month < 0 || hour > 23 || minute > 59 || second > 60) return undefined;
  // Date.UTC rolls 31 Feb over into March: such a day names no date at all.
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return undefined;
  return Date.UTC(year, month, day, hour, minute, second);
}
