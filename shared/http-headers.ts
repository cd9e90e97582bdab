/**
 * Header names used by both the server and the client, lower-case as Node
 * and `fetch` report them.
 *
 * @example
 * ```ts
 * headers.set(HEADERS.idempotencyKey, crypto.randomUUID());
 * ```
 */
export const HEADERS = {
  authorization: 'authorization',
  idempotencyKey: 'idempotency-key',
  idempotentReplayed: 'idempotent-replayed',
  retryAfter: 'retry-after',
  rateLimit: 'ratelimit',
  rateLimitPolicy: 'ratelimit-policy',
  requestId: 'x-request-id',
  cacheStatus: 'cache-status',
  cacheControl: 'cache-control',
  etag: 'etag',
  ifNoneMatch: 'if-none-match',
  age: 'age',
} as const;
