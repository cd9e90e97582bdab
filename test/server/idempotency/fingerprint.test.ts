import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, fingerprint } from '../../../server/idempotency/fingerprint.js';

describe('canonicalJson', () => {
  it('sorts object keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it('leaves out undefined fields and writes undefined array items as null, like JSON.stringify', () => {
    expect(canonicalJson({ a: undefined, b: [undefined] })).toBe('{"b":[null]}');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('parses back to the same value, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});

describe('fingerprint', () => {
  it('is the same for inputs that differ only in key order, and differs for other values', () => {
    expect(fingerprint({ userId: 1, amountCents: 5, currency: 'EUR' })).toBe(
      fingerprint({ currency: 'EUR', amountCents: 5, userId: 1 }),
    );
    expect(fingerprint({ userId: 1, amountCents: 5 })).not.toBe(fingerprint({ userId: 1, amountCents: 6 }));
    expect(fingerprint({ a: '1' })).not.toBe(fingerprint({ a: 1 }));
  });
});

describe('canonicalJson on deep input', () => {
  it('handles nesting far deeper than the call stack, as JSON.parse does', () => {
    const depth = 200_000;
    const value: unknown = JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
    expect(canonicalJson(value)).toHaveLength(2 * depth);
    expect(fingerprint(JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`))).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('canonicalJson: what JSON cannot spell', () => {
  it('leaves functions, symbols and undefined out of objects and writes them null in arrays, as JSON.stringify does', () => {
    const value = { a: 1, f: () => 1, s: Symbol('s'), u: undefined, list: [() => 1, Symbol('t'), undefined] };
    expect(canonicalJson(value)).toBe('{"a":1,"list":[null,null,null]}');
    expect(canonicalJson(value)).toBe(JSON.stringify(value));
  });
});
