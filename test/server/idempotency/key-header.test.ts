import { describe, expect, it } from 'vitest';
import { readIdempotencyKey } from '../../../server/idempotency/key-header.js';

describe('readIdempotencyKey', () => {
  it('reads a bare token as the key', () => {
    expect(readIdempotencyKey(['order-1001'])).toEqual({ kind: 'valid', key: 'order-1001' });
  });

  it("reads the draft's sf-string form as the same key, with its escapes undone", () => {
    expect(readIdempotencyKey(['"order-1001"'])).toEqual({ kind: 'valid', key: 'order-1001' });
    expect(readIdempotencyKey(['"a\\"b\\\\c"'])).toEqual({ kind: 'valid', key: 'a"b\\c' });
  });

  it('reports an absent header as absent, not invalid', () => {
    expect(readIdempotencyKey(undefined)).toEqual({ kind: 'absent' });
  });

  it('accepts 255 characters and refuses 256', () => {
    expect(readIdempotencyKey(['k'.repeat(255)]).kind).toBe('valid');
    expect(readIdempotencyKey(['k'.repeat(256)]).kind).toBe('invalid');
    expect(readIdempotencyKey([`"${'k'.repeat(256)}"`]).kind).toBe('invalid');
  });

  it('refuses empty, non-ASCII and control characters', () => {
    for (const value of ['', '""', 'café', 'clé-\u00e9', 'tab\there', 'nul\u0000']) {
      expect(readIdempotencyKey([value]).kind, JSON.stringify(value)).toBe('invalid');
    }
  });

  it('refuses a malformed sf-string: unterminated, a bad escape, or parameters after it', () => {
    for (const value of ['"abc', '"a\\nb"', '"abc";v=1', '"abc" x']) {
      expect(readIdempotencyKey([value]).kind, value).toBe('invalid');
    }
  });

  it('refuses a repeated header', () => {
    expect(readIdempotencyKey(['a', 'b']).kind).toBe('invalid');
  });
});
