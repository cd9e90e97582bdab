import { describe, expect, it } from 'vitest';
import { ifNoneMatchMatches, strongEtag } from '../../../server/cache/etag.js';

describe('strongEtag', () => {
  it('is a quoted strong tag that depends only on the bytes', () => {
    const tag = strongEtag(Buffer.from('{"result":{"data":1}}'));
    expect(tag).toMatch(/^"[\w-]{22}"$/);
    expect(strongEtag(Buffer.from('{"result":{"data":1}}'))).toBe(tag);
    expect(strongEtag(Buffer.from('{"result":{"data":2}}'))).not.toBe(tag);
  });
});

describe('ifNoneMatchMatches (RFC 9110 §13.1.2)', () => {
  const tag = '"abc"';

  it('matches the same tag', () => expect(ifNoneMatchMatches('"abc"', tag)).toBe(true));
  it('matches with the weak comparison: W/"abc" matches "abc"', () => expect(ifNoneMatchMatches('W/"abc"', tag)).toBe(true));
  it('matches * against any current representation', () => expect(ifNoneMatchMatches('*', tag)).toBe(true));
  it('matches a member of a list, with optional whitespace', () => {
    expect(ifNoneMatchMatches('"x", W/"y" ,"abc"', tag)).toBe(true);
    expect(ifNoneMatchMatches('"x",W/"abc"', tag)).toBe(true);
  });
  it('does not match other tags, or a tag only as a prefix', () => {
    expect(ifNoneMatchMatches('"x", "y"', tag)).toBe(false);
    expect(ifNoneMatchMatches('"abcd"', tag)).toBe(false);
  });
  it('reads commas inside a quoted tag as part of the tag', () => {
    expect(ifNoneMatchMatches('"a,b"', '"a,b"')).toBe(true);
    expect(ifNoneMatchMatches('"x,"abc""', tag)).toBe(false);
  });
  it('matches nothing from a malformed header', () => {
    expect(ifNoneMatchMatches('abc', tag)).toBe(false);
    expect(ifNoneMatchMatches('"abc', tag)).toBe(false);
  });
});

describe('ifNoneMatchMatches: list edges', () => {
  const etag = strongEtag(new TextEncoder().encode('list edges'));

  it('skips tabs between members as it skips spaces and commas', () => {
    expect(ifNoneMatchMatches(`"other",\t${etag}`, etag)).toBe(true);
    expect(ifNoneMatchMatches(`\t${etag}`, etag)).toBe(true);
  });

  it('matches nothing once a member is malformed, even a later well-formed one', () => {
    // Resyncing on the next quote would read `", "` as the end of a member and then match.
    expect(ifNoneMatchMatches(`a", ${etag}`, etag)).toBe(false);
  });
});
