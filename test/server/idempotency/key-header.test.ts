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

  it('reports an empty list of values as absent', () => {
    expect(readIdempotencyKey([])).toEqual({ kind: 'absent' });
  });

  it('keeps spaces and tildes inside a quoted key, the ends of printable ASCII', () => {
    expect(readIdempotencyKey(['"a b~c"'])).toEqual({ kind: 'valid', key: 'a b~c' });
    expect(readIdempotencyKey(['" ~"'])).toEqual({ kind: 'valid', key: ' ~' });
  });

  it('says what is wrong: a repeated header, a malformed sf-string, or the characters', () => {
    const problem = (values: string[]) => {
      const read = readIdempotencyKey(values);
      return read.kind === 'invalid' ? read.problem : read.kind;
    };
    expect(problem(['a', 'b'])).toMatch(/exactly one Idempotency-Key/);
    // Inside quotes a control or non-ASCII character breaks the sf-string itself (RFC 8941 §3.3.3).
    for (const value of ['"abc";v=1', '"tab\there"', '"café"', '"del\u007f"']) {
      expect(problem([value]), JSON.stringify(value)).toMatch(/sf-string \(RFC 8941/);
    }
    expect(problem(['café'])).toMatch(/1–255 printable ASCII/);
    expect(problem(['k'.repeat(256)])).toMatch(/1–255 printable ASCII/);
  });
});
