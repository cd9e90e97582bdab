import { hash } from 'node:crypto';

type Step = { value: unknown } | string;

const omitted = (value: unknown) => value === undefined || typeof value === 'function' || typeof value === 'symbol';
const byCodeUnit = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * JSON with object keys sorted (by UTF-16 code unit, like `Array.sort`), so
 * `{"a":1,"b":2}` and `{"b":2,"a":1}` are one request. Values are what
 * `JSON.parse` yields; what JSON cannot spell (`undefined`, functions) is
 * left out of objects and written `null` in arrays, as JSON.stringify does.
 * Iterative, not recursive: a 1 MB body can nest half a million levels
 * deep, which JSON.parse accepts and a recursive walk would overflow on
 * before validation gets to reject it.
 */
export function canonicalJson(root: unknown): string {
  let out = '';
  const stack: Step[] = [{ value: root }];
  for (let step = stack.pop(); step !== undefined; step = stack.pop()) {
    if (typeof step === 'string') {
      out += step;
      continue;
    }
    const { value } = step;
    if (value === null || typeof value !== 'object') {
      out += JSON.stringify(value) ?? 'null';
    } else if (Array.isArray(value)) {
      // Pushed in reverse, so items pop in order.
      stack.push(']');
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push({ value: value[i] as unknown });
        if (i > 0) stack.push(',');
      }
      out += '[';
    } else {
      const entries = Object.entries(value).filter(([, field]) => !omitted(field)).sort(byCodeUnit);
      stack.push('}');
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, field] = entries[i] ?? ['', null];
        stack.push({ value: field }, `${JSON.stringify(key)}:`);
        if (i > 0) stack.push(',');
      }
      out += '{';
    }
  }
  return out;
}

/** SHA-256 (hex) of the canonical JSON of a call's raw input: same key with another fingerprint is a 422. */
export function fingerprint(rawInput: unknown): string {
  return hash('sha256', canonicalJson(rawInput), 'hex');
}
