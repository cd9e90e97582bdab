import { createHash } from 'node:crypto';
import { canonicalInput } from './canonical-input.js';

/**
 * The input part of a cache key: SHA-256 of the canonical input, base64url
 * (43 characters). A digest rather than the canonical text itself, so an
 * entry's key costs the same few bytes however long the input (a key built
 * from a 16 KB input kept 16 KB alive per entry, outside CACHE_MAX_BYTES),
 * and what the byte bound counts is what memory holds. Null when the input
 * has no canonical form (see canonicalInput).
 */
export function inputDigest(raw: unknown): string | null {
  const canonical = canonicalInput(raw);
  return canonical === null ? null : createHash('sha256').update(canonical).digest('base64url');
}
