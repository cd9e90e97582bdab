import type { Limit } from './limit.js';

/**
 * A limit that never moves (`ADMISSION_LIMIT`): for a deployment that has
 * measured its capacity, or to rule the adaptive algorithm out.
 *
 * @example
 * ```ts
 * fixedLimit(32).current; // 32
 * ```
 */
export function fixedLimit(limit: number): Limit {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`fixed limit must be an integer ≥ 1, got ${String(limit)}`);
  return { current: limit, onSample() {} };
}
