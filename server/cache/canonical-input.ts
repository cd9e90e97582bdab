/*
 * The input part of a cache key. Two raw inputs that zod would parse alike
 * must give one key, so objects are written with sorted keys; and since the
 * key is made from the raw input (before validation, so the HTTP fast path
 * can compute it without running zod), anything that could change the
 * parse result must stay in it.
 */

/**
 * `direction` is what `@trpc/tanstack-react-query` adds to an infinite
 * query's input; no procedure reads it. Only its two valid values are
 * dropped: an invalid one must keep its own key, so that it reaches zod and
 * gets its 400 instead of another input's cached 200.
 */
function isTanStackDirection(key: string, value: unknown): boolean {
  return key === 'direction' && (value === 'forward' || value === 'backward');
}

/**
 * Deeper inputs get no key and are not cached: no procedure takes them, and
 * a hostile `[[[[…` of thousands of levels must not overflow the stack here
 * before zod gets to reject it.
 */
export const MAX_INPUT_DEPTH = 32;

/** The input has no canonical form: too deep, or a number JSON cannot write. */
class NotKeyable extends Error {
  override readonly name = 'NotKeyable';
}

function write(value: unknown, depth: number): string {
  // JSON.parse reads 1e999 as Infinity, which JSON.stringify writes as null:
  // keyed that way, an input zod rejects would share `null`'s cached answer.
  if (typeof value === 'number' && !Number.isFinite(value)) throw new NotKeyable();
  if (value === null || typeof value !== 'object') {
    // JSON.stringify gives undefined for undefined (absent input) and functions, which JSON input never holds.
    return JSON.stringify(value) ?? '';
  }
  if (depth === MAX_INPUT_DEPTH) throw new NotKeyable();
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + write(value[i], depth + 1);
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = record[key];
    if (item === undefined || (depth === 0 && isTanStackDirection(key, item))) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${write(item, depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * Canonical JSON of a raw (JSON-parsed, unvalidated) procedure input: object
 * keys sorted at every depth, TanStack's `direction` dropped at the top; ''
 * for no input at all; null (no key: the input goes to validation uncached)
 * when nested deeper than MAX_INPUT_DEPTH or holding a non-finite number.
 *
 * @example
 * ```ts
 * canonicalInput({ limit: 5, cursor: null, direction: 'forward' }); // '{"cursor":null,"limit":5}'
 * ```
 */
export function canonicalInput(raw: unknown): string | null {
  try {
    return write(raw, 0);
  } catch (err) {
    if (err instanceof NotKeyable) return null;
    throw err;
  }
}
