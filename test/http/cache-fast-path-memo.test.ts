import { describe, expect, it } from 'vitest';
import { digestMemoSize, inputDigestOf } from '../../server/http/cache-fast-path.js';
import { inputDigest } from '../../server/cache/input-digest.js';

// The fast path keeps the digest of each query string it has seen; these are the memo's bounds.
const MAX_ENTRIES = 10_000;
const MAX_QUERY_LENGTH = 256;

/** `/trpc/x?input=<JSON of a string>` whose query (after the `?`) is exactly `length` characters. */
function urlWithQueryOf(length: number, tag: string): string {
  const head = `input="${tag}`;
  const query = `${head}${'a'.repeat(length - head.length - 1)}"`;
  expect(query).toHaveLength(length);
  return `/trpc/x?${query}`;
}

describe('the fast path digest memo', () => {
  it('gives the digest of the input, or of no input for a missing or bare query string', () => {
    expect(inputDigestOf('/trpc/x?input=%7B%22limit%22%3A1%7D', 7)).toBe(inputDigest({ limit: 1 }));
    expect(inputDigestOf('/trpc/x', -1)).toBe(inputDigest(undefined));
    expect(inputDigestOf('/trpc/x?', 7)).toBe(inputDigest(undefined));
  });

  it(`keeps query strings up to ${MAX_QUERY_LENGTH} characters, not longer ones`, () => {
    const kept = urlWithQueryOf(MAX_QUERY_LENGTH, `kept-${Math.random()}`);
    const before = digestMemoSize();
    inputDigestOf(kept, kept.indexOf('?'));
    // A full memo empties itself first: then the new entry is its only one.
    expect(digestMemoSize()).toBe(before === MAX_ENTRIES ? 1 : before + 1);
    const long = urlWithQueryOf(MAX_QUERY_LENGTH + 1, `long-${Math.random()}`);
    const sizeBefore = digestMemoSize();
    expect(inputDigestOf(long, long.indexOf('?'))).toBe(inputDigest(JSON.parse(long.slice(long.indexOf('?') + 7))));
    expect(digestMemoSize()).toBe(sizeBefore);
  });

  it(`holds at most ${MAX_ENTRIES} query strings, emptying itself when full`, () => {
    let n = 0;
    const next = () => {
      const url = `/trpc/x?input=${n++}`;
      inputDigestOf(url, 7);
    };
    // Fill until it empties itself once, from whatever the other tests left in it.
    let previous = digestMemoSize();
    for (let i = 0; i <= MAX_ENTRIES + 1; i++) {
      next();
      if (digestMemoSize() < previous) break;
      previous = digestMemoSize();
    }
    expect(digestMemoSize()).toBe(1);
    for (let i = 1; i < MAX_ENTRIES; i++) next();
    expect(digestMemoSize()).toBe(MAX_ENTRIES);
    next();
    expect(digestMemoSize()).toBe(1);
  });
});
