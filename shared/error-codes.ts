// Plain constants, free of zod, so a browser bundle of the client that
// imports them does not pull in the schema library.

/**
 * The tRPC error codes the API answers with, and their HTTP statuses.
 *
 * @example
 * ```ts
 * ERROR_STATUS.TOO_MANY_REQUESTS; // 429
 * ```
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNPROCESSABLE_CONTENT: 422,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;
export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * Statuses worth retrying after a wait: rate limited, unavailable, and an
 * idempotent request still in flight (409 with Retry-After).
 *
 * @example
 * ```ts
 * RETRYABLE_STATUSES.has(429); // true
 * ```
 */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([409, 429, 503]);

/**
 * Why an error happened, in `error.data.reason`, where the code alone is
 * ambiguous (a 409 can be a duplicate email or an in-flight idempotent
 * request; only the latter is worth a retry).
 *
 * @example
 * ```ts
 * if (data.reason === ERROR_REASONS.idempotencyInFlight) retryLater();
 * ```
 */
export const ERROR_REASONS = {
  idempotencyInFlight: 'idempotency_in_flight',
  idempotencyMismatch: 'idempotency_mismatch',
  duplicate: 'duplicate',
  rateLimited: 'rate_limited',
  invalidCursor: 'invalid_cursor',
  upstreamUnavailable: 'upstream_unavailable',
  /** 503 from admission control: the server is at capacity; wait as Retry-After says. */
  overloaded: 'overloaded',
  /** 503: the database is unreachable or its pool is full; wait as Retry-After says. */
  databaseUnavailable: 'database_unavailable',
} as const;
