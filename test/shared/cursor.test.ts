import { describe, expect, it } from 'vitest';
import { decodeCursorPayload, encodeCursorPayload, fromBase64Url, toBase64Url } from '../../shared/cursor.js';

// Bytes whose standard base64 is '+/+/' and '+w==': the two characters
// base64url replaces and the padding it drops (RFC 4648 §5).
const PLUS_SLASH = '\xfb\xff\xbf';
const PADDED = '\xfb';

describe('base64url', () => {
  it("spells '+' and '/' as '-' and '_' and drops the padding", () => {
    expect(toBase64Url(PLUS_SLASH)).toBe('-_-_');
    expect(toBase64Url(PADDED)).toBe('-w');
  });

  it('reads back what it writes, including the unpadded tail', () => {
    expect(fromBase64Url('-_-_')).toBe(PLUS_SLASH);
    expect(fromBase64Url('-w')).toBe(PADDED);
  });

  it('refuses standard base64, padding and whitespace that atob alone would accept', () => {
    for (const text of ['+/+/', '+w==', '-w==', '-_ -_', '']) expect(fromBase64Url(text)).toBeNull();
  });

  it('refuses a length no base64 text can have', () => {
    expect(fromBase64Url('abcde')).toBeNull();
  });
});

describe('cursor payload', () => {
  it('round-trips a payload', () => {
    const payload = { v: 1 as const, s: 'a1b2', k: 20 };
    expect(encodeCursorPayload(payload)).toBe('eyJ2IjoxLCJzIjoiYTFiMiIsImsiOjIwfQ');
    expect(decodeCursorPayload(encodeCursorPayload(payload))).toEqual(payload);
  });

  it('returns null for text that is base64url but not JSON', () => {
    expect(decodeCursorPayload(toBase64Url('{"v":1,'))).toBeNull();
  });

  it('returns null for text that is not base64url', () => {
    expect(decodeCursorPayload('not a cursor')).toBeNull();
  });

  it('returns null for a payload of the wrong shape', () => {
    for (const json of ['{"v":1,"s":"","k":1}', '{"v":1,"s":"a","k":1.5}', `{"v":1,"s":"${'a'.repeat(65)}","k":1}`]) {
      expect(decodeCursorPayload(toBase64Url(json))).toBeNull();
    }
  });
});
