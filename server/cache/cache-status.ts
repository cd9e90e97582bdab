/*
 * Cache-Status values (RFC 9211): a Structured Field List (RFC 9651) whose
 * member names this cache, `composure`, with parameters saying what it did.
 * Fixed values are built once; the hot path never formats one.
 */

const NAME = 'composure';

/** Answered from the cache without computing (RFC 9211 §2.1 `hit`). */
export const CACHE_STATUS_HIT = `${NAME}; hit`;
/** Computed, because nothing usable was stored (§2.2 `fwd=miss`), and stored (§2.5 `stored`). */
export const CACHE_STATUS_STORED = `${NAME}; fwd=miss; stored`;
/** Computed and not stored: a partial answer, too large, or invalidated while computing. */
export const CACHE_STATUS_MISS = `${NAME}; fwd=miss`;
/** Waited for a computation another request had already started (§2.6 `collapsed`). */
export const CACHE_STATUS_COLLAPSED = `${NAME}; fwd=miss; collapsed`;
/** A query that is not cached at all (§2.2 `fwd=bypass`). */
export const CACHE_STATUS_BYPASS = `${NAME}; fwd=bypass`;

/**
 * A stale answer served because a fresh one could not be had: §2.4 `ttl`
 * "may be negative, to indicate staleness". `ttlSeconds` is the freshness
 * lifetime minus the age (RFC 9111 §4.2.3) in whole seconds, rounded down.
 */
export function staleCacheStatus(ttlSeconds: number): string {
  return `${NAME}; hit; ttl=${ttlSeconds}`;
}
