import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MAX_INPUT_DEPTH, canonicalInput } from '../../../server/cache/canonical-input.js';

describe('canonicalInput', () => {
  it('sorts object keys at every depth', () => {
    expect(canonicalInput({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
  });

  it("drops TanStack's valid direction at the top level only", () => {
    expect(canonicalInput({ limit: 5, direction: 'forward' })).toBe('{"limit":5}');
    expect(canonicalInput({ limit: 5, direction: 'backward' })).toBe('{"limit":5}');
    expect(canonicalInput({ nested: { direction: 'forward' } })).toBe('{"nested":{"direction":"forward"}}');
  });

  it('keeps an invalid direction, so that input reaches validation instead of a cached answer', () => {
    expect(canonicalInput({ limit: 5, direction: 'sideways' })).toBe('{"direction":"sideways","limit":5}');
  });

  it('tells no input, null and an empty object apart', () => {
    expect(new Set([canonicalInput(undefined), canonicalInput(null), canonicalInput({})]).size).toBe(3);
  });

  it('gives up, with null, past MAX_INPUT_DEPTH levels of nesting', () => {
    const nest = (levels: number) => JSON.parse(`${'['.repeat(levels)}${']'.repeat(levels)}`) as unknown;
    expect(canonicalInput(nest(MAX_INPUT_DEPTH))).toBe(`${'['.repeat(MAX_INPUT_DEPTH)}${']'.repeat(MAX_INPUT_DEPTH)}`);
    expect(canonicalInput(nest(MAX_INPUT_DEPTH + 1))).toBeNull();
    expect(canonicalInput(nest(100_000))).toBeNull();
  });

  it('gives up, with null, on a number JSON cannot write (1e999 parses to Infinity, which JSON writes as null)', () => {
    expect(canonicalInput(JSON.parse('{"cursor":1e999}'))).toBeNull();
    expect(canonicalInput(JSON.parse('[{"a":-1e999}]'))).toBeNull();
    expect(canonicalInput({ cursor: null })).toBe('{"cursor":null}');
  });

  it('gives one key for any key order of the same JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const shuffled = JSON.parse(JSON.stringify(value, (_k, v: unknown) =>
          v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        )) as unknown;
        expect(canonicalInput(shuffled)).toBe(canonicalInput(value));
      }),
    );
  });

  it('writes JSON that parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalInput(value) ?? '')).toEqual(JSON.parse(JSON.stringify(value)));
      }),
    );
  });
});

describe('canonicalInput: edges', () => {
  it("keys an absent input as ''", () => {
    expect(canonicalInput(undefined)).toBe('');
  });

  it('keys a field holding undefined as the field left out, as JSON does', () => {
    expect(canonicalInput({ a: 1, b: undefined })).toBe(canonicalInput({ a: 1 }));
  });

  it("drops only a top-level field named direction, not any field whose value is 'forward' or 'backward'", () => {
    expect(canonicalInput({ sort: 'forward' })).toBe('{"sort":"forward"}');
    expect(canonicalInput({ direction: 'backward', sort: 'backward' })).toBe('{"sort":"backward"}');
  });

  it('gives no key to objects nested deeper than MAX_INPUT_DEPTH, as to arrays', () => {
    const deep = (levels: number): unknown => (levels === 0 ? 1 : { a: deep(levels - 1) });
    expect(canonicalInput(deep(MAX_INPUT_DEPTH))).not.toBeNull();
    expect(canonicalInput(deep(MAX_INPUT_DEPTH + 1))).toBeNull();
  });
});
